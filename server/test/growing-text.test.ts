import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrowingText } from '../src/chat/growing-text.js';

test("an answer's text is every delta in order, however many came and whenever it is read", () => {
  const text = new GrowingText();
  let expected = '';
  assert.equal(text.toString(), '');
  // Deltas of every size (empty ones too, and characters outside the BMP), read now and then: around
  // the first batch of joined deltas, and after long runs of batches unread.
  const readAt = new Set([14, 15, 16, 17, 120, 121, 300]);
  for (let i = 0; i < 500; i++) {
    const delta = i % 7 === 0 ? '' : `${i}:${'é😀'.repeat(i % 3)} `;
    text.append(delta);
    expected += delta;
    if (readAt.has(i)) assert.equal(text.toString(), expected);
  }
  assert.equal(text.toString(), expected);
  assert.equal(text.toString(), expected);
});
