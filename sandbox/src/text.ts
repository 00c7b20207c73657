// Splitting answers into delta-sized pieces, the way a model's tokens arrive.

const TOKEN = /[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]|\s+|[^\s\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+\s*/gu;

/** Splits into word-ish tokens (each CJK character its own token, spaces kept) grouped `perPiece` at a time. */
export function pieces(text: string, perPiece = 1): string[] {
  const tokens = text.match(TOKEN) ?? [];
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i += perPiece) out.push(tokens.slice(i, i + perPiece).join(''));
  return out;
}

/** Splits into exactly `count` pieces of near-equal length (by code point), fewer if the text is shorter. */
export function evenPieces(text: string, count: number): string[] {
  const chars = Array.from(text);
  const n = Math.max(1, Math.min(count, chars.length));
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(chars.slice(Math.floor((i * chars.length) / n), Math.floor(((i + 1) * chars.length) / n)).join(''));
  return out;
}
