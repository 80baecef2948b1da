/** src/cli/output.ts: what people read in a terminal cannot be forged by a field's content (a reason, a justification). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { table, terminalText } from '../../src/cli/output.js';

test('control characters in a value are shown escaped: no new row, no carriage return, no escape sequence', () => {
  assert.equal(terminalText('fine\nApproved by: ceo'), 'fine\\nApproved by: ceo');
  assert.equal(terminalText('a\r\u001b[2Kb\u0007\u009b'), 'a\\r\\u001b[2Kb\\u0007\\u009b');
  assert.equal(terminalText('plain text, ünïcode, emoji 🚀'), 'plain text, ünïcode, emoji 🚀');
  const t = table(['who', 'why'], [['sam', 'line1\nFAKE  granted by admin\r\n\u001b]0;title\u0007']]);
  assert.equal(t.split('\n').length, 2, t);
  assert.doesNotMatch(t, /[\r\u001b\u0007]/);
});
