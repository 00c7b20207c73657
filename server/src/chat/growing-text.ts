// An answer's text, taken in delta by delta. Appended to a string one delta at a time, V8 keeps every
// delta as its own string plus a link per append until the whole is read (a "cons string"): some 60
// to 100 bytes a delta, the largest part of an open stream's own memory, and it outlives the young
// generation. Here the deltas are joined a few at a time into flat strings, so a long answer costs
// about its own characters.

/** Deltas joined into one flat string at a time: they die young, as most of a stream's objects do. */
const JOIN_EVERY = 16;

export class GrowingText {
  private parts: string[] = [];
  /** How many of the last parts are single deltas, not yet joined. */
  private loose = 0;

  append(delta: string): void {
    if (!delta) return;
    this.parts.push(delta);
    if (++this.loose < JOIN_EVERY) return;
    this.parts.push(this.parts.splice(-JOIN_EVERY).join(''));
    this.loose = 0;
  }

  /** The text so far, as one string (kept as the only part until more comes). */
  toString(): string {
    if (this.parts.length > 1) {
      this.parts = [this.parts.join('')];
      this.loose = 0;
    }
    return this.parts[0] ?? '';
  }
}
