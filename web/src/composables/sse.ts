// Reads a `text/event-stream` body of `data: <payload>` lines, robust to chunk boundaries.
// Only the plain `data:` field is used by the server; other fields and comments are ignored.

export async function readDataLines(
  body: ReadableStream<Uint8Array>,
  onData: (payload: string) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const flushLines = () => {
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line.startsWith('data:')) onData(line.slice(5).replace(/^ /, ''));
    }
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      flushLines();
    }
    buffer += decoder.decode();
    if (buffer) buffer += '\n';
    flushLines();
  } finally {
    reader.releaseLock();
  }
}
