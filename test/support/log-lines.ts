// JSON log lines of a broker (in-process sink or child process output), recorded in order, with a
// wait for the first line that matches: the one recorder of cli/process-output.ts.
export { LogLines, type LogLine } from '../../cli/process-output.ts';
