/** Unit tests of src/core/ref-names.ts: git's ref-name rules, one case per rule (the git comparison is test/ref-names-git.test.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidRefName, refNameProblem } from '../../src/core/ref-names.js';

test('names git accepts', () => {
  for (const n of [
    'main',
    'release/1.2',
    'v1.2.3',
    'web/v9.9.9',
    'a,b',
    'main-3',
    'feature/ünïcode',
    'x@y',
    'a.b',
    '3',
    'a'.repeat(40),
    '(x)',
    'a{b}',
  ]) {
    assert.equal(refNameProblem(n), undefined, n);
  }
});

test('each of git check-ref-format rules refuses its names, with the reason', () => {
  const refused: [string, RegExp][] = [
    ['', /empty/],
    ['a..b', /contains "\.\."/],
    ['x@{1}', /contains "@\{"/],
    ['@{x}', /contains "@\{"/],
    ['@', /single character "@"/],
    ['.hidden', /beginning with "\."/],
    ['a/.b', /beginning with "\."/],
    ['a.lock', /ending with "\.lock"/],
    ['a.lock/b', /ending with "\.lock"/],
    ['a/', /begins or ends with "\/"/],
    ['/a', /begins or ends with "\/"/],
    ['a//b', /contains "\/\/"/],
    ['a.', /ends with "\."/],
    ['v1\nApproved by: ceo@example.com', /control character U\+000A/],
    ['a\tb', /control character U\+0009/],
    ['a\x7fb', /control character U\+007F/],
    ['a b', /contains " "/],
    ['a~1', /contains "~"/],
    ['a^', /contains "\^"/],
    ['a:b', /contains ":"/],
    ['a?', /contains "\?"/],
    ['a*', /contains "\*"/],
    ['a[b', /contains "\["/],
    ['a\\b', /contains "\\\\"/],
    ['-x', /begins with "-"/],
    ['HEAD', /"HEAD"/],
    ['a\ud800b', /lone surrogate/],
    ['x'.repeat(1025), /longer than 1024/],
  ];
  for (const [name, why] of refused) {
    assert.match(refNameProblem(name) ?? 'accepted', why, JSON.stringify(name));
    assert.equal(isValidRefName(name), false);
  }
});
