/** Keeps the last `limit` characters of a stream of text, e.g. a child's stderr. */
export class TextTail {
  private chunks: string[] = [];
  private length = 0;

  /** @param limit characters kept (the newest); default 8192. */
  constructor(private readonly limit = 8192) {}

  push(chunk: string): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    // Trimmed only once twice the limit has piled up: a steady stream costs linear time, not limit × chunks.
    if (this.length > 2 * this.limit) this.compact();
  }

  /** Everything kept, at most `limit` characters. */
  text(): string {
    this.compact();
    return this.chunks[0] ?? '';
  }

  /** The last `lines` lines. */
  lines(lines = 20): string {
    return this.text()
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trim();
  }

  private compact(): void {
    if (this.chunks.length <= 1 && this.length <= this.limit) return;
    const text = this.chunks.join('').slice(-this.limit);
    this.chunks = [text];
    this.length = text.length;
  }
}
