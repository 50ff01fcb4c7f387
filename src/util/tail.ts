/** Keeps the last `limit` characters of a stream of text, e.g. a child's stderr. */
export class TextTail {
  private text = '';

  constructor(private readonly limit = 8192) {}

  push(chunk: string): void {
    this.text = (this.text + chunk).slice(-this.limit);
  }

  /** The last `lines` lines. */
  lines(lines = 20): string {
    return this.text.split('\n').slice(-lines - 1).join('\n').trim();
  }
}
