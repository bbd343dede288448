// The apples shared by the apple handlers: what a device gets for `get_apples` and `more_apples`.

export interface Apple {
  readonly colour: string;
  readonly variety: string;
}

export const FIRST_APPLES: readonly Apple[] = [
  { colour: 'red', variety: 'Gala' },
  { colour: 'green', variety: 'Granny Smith' },
  { colour: 'yellow', variety: 'Golden Delicious' },
];

/** "More apples" from the plain handler. */
export const PLAIN_MORE_APPLES: readonly Apple[] = [
  { colour: 'pink', variety: 'Pink Lady' },
  { colour: 'crimson', variety: 'Red Delicious' },
  { colour: 'orange', variety: 'Cox Orange Pippin' },
];

/** "More apples" from the store-backed handler (its initial stock). */
export const STORED_MORE_APPLES: readonly Apple[] = [
  { colour: 'russet', variety: 'Egremont Russet' },
  { colour: 'blush', variety: 'Honeycrisp' },
  { colour: 'lime', variety: 'Mutsu' },
];
