// The size of a topic or filter: its length and its number of levels, each bounded. A topic that is
// too long costs matching and memory in every subscriber's session; MQTT allows 65,535 bytes.
export interface TopicBounds {
  /** Characters in a topic or filter (`MAX_TOPIC_LENGTH`). */
  readonly maxTopicLength: number;
  /** Levels (`/`-separated parts) in a topic or filter (`MAX_TOPIC_LEVELS`). */
  readonly maxTopicLevels: number;
}

/** Why `topic` is over the bounds, or undefined when it is within them. */
export function topicOverBounds(topic: string, bounds: TopicBounds): string | undefined {
  if (topic.length > bounds.maxTopicLength)
    return `${topic.length} characters, over MAX_TOPIC_LENGTH ${bounds.maxTopicLength}`;
  // n levels take n - 1 slashes: a topic shorter than the bound cannot be over it (hot path, every PUBLISH).
  if (topic.length < bounds.maxTopicLevels) return undefined;
  let levels = 1;
  for (let slash = topic.indexOf('/'); slash !== -1; slash = topic.indexOf('/', slash + 1)) {
    levels += 1;
    if (levels > bounds.maxTopicLevels) return `more than MAX_TOPIC_LEVELS ${bounds.maxTopicLevels} levels`;
  }
  return undefined;
}
