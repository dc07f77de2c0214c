import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ERROR_CATALOGUE, ERROR_CODES } from '../../../src/core/errors.js';

test('every error code is documented in docs/ERRORS.md with its HTTP status', () => {
  const doc = readFileSync(new URL('../../../docs/ERRORS.md', import.meta.url), 'utf8');
  for (const code of ERROR_CODES) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
    assert.ok(row, `${code} has no row in docs/ERRORS.md`);
    assert.ok(
      row.includes(`| ${ERROR_CATALOGUE[code].status} |`),
      `${code}'s row does not give HTTP ${ERROR_CATALOGUE[code].status}`,
    );
  }
});
