import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JlabError } from '../../src/util/errors.js';
import { planParameterSets, runNotebookName } from '../../src/sweeps/plan.js';
import { isIdentifier, parameterAssignments, parameterLanguageOf, renderValue } from '../../src/sweeps/parameterLanguage.js';

const refused = (code: string, pattern: RegExp) => (error: unknown) => error instanceof JlabError && error.code === code && pattern.test(error.message);

test('a grid is the cartesian product, first name slowest, in a stable order', () => {
  const sets = planParameterSets({ parameters: { lr: [0.1, 0.01], seed: [1, 2, 3] } }, 'python', 1000);
  assert.deepEqual(sets, [
    { lr: 0.1, seed: 1 },
    { lr: 0.1, seed: 2 },
    { lr: 0.1, seed: 3 },
    { lr: 0.01, seed: 1 },
    { lr: 0.01, seed: 2 },
    { lr: 0.01, seed: 3 },
  ]);
});

test('explicit runs are taken as given, each a copy', () => {
  const runs = [{ a: 1 }, { a: 2, b: 'x' }];
  const sets = planParameterSets({ runs }, 'python', 10);
  assert.deepEqual(sets, runs);
  assert.notEqual(sets[0], runs[0]);
});

test('both or neither of parameters/runs, and empty lists, are refused', () => {
  assert.throws(() => planParameterSets({}, 'python', 10), refused('INVALID_ARGUMENT', /neither/));
  assert.throws(() => planParameterSets({ parameters: { a: [1] }, runs: [{ a: 1 }] }, 'python', 10), refused('INVALID_ARGUMENT', /not both/));
  assert.throws(() => planParameterSets({ parameters: {} }, 'python', 10), refused('INVALID_ARGUMENT', /empty/));
  assert.throws(() => planParameterSets({ parameters: { a: [] } }, 'python', 10), refused('INVALID_ARGUMENT', /empty list/));
  assert.throws(() => planParameterSets({ parameters: { a: 3 } }, 'python', 10), refused('INVALID_ARGUMENT', /not a list/));
  assert.throws(() => planParameterSets({ runs: [] }, 'python', 10), refused('INVALID_ARGUMENT', /empty list/));
  assert.throws(() => planParameterSets({ runs: [5] }, 'python', 10), refused('INVALID_ARGUMENT', /runs\[0\]/));
});

test('names must be identifiers of the language, not reserved words', () => {
  assert.throws(
    () => planParameterSets({ parameters: { 'learning-rate': [1] } }, 'python', 10),
    refused('INVALID_ARGUMENT', /learning-rate.*Python identifier/),
  );
  assert.throws(() => planParameterSets({ parameters: { class: [1] } }, 'python', 10), refused('INVALID_ARGUMENT', /class/));
  assert.throws(() => planParameterSets({ runs: [{ '1x': 1 }] }, 'julia', 10), refused('INVALID_ARGUMENT', /Julia/));
  assert.ok(isIdentifier('my.rate', 'r'));
  assert.ok(!isIdentifier('my.rate', 'python'));
  assert.ok(!isIdentifier('_x', 'r'));
  assert.ok(isIdentifier('x!', 'julia'));
  assert.ok(isIdentifier('taux_é', 'python'));
});

test('values that are not JSON are refused, naming where', () => {
  assert.throws(() => planParameterSets({ parameters: { a: [1, Number.NaN] } }, 'python', 10), refused('INVALID_ARGUMENT', /parameters\.a\[1\] is NaN/));
  assert.throws(() => planParameterSets({ runs: [{ a: { b: () => 1 } }] }, 'python', 10), refused('INVALID_ARGUMENT', /runs\[0\]\.a\.b is a function/));
});

test('more runs than the limit: SWEEP_TOO_LARGE with the count, before building the grid', () => {
  const big = Array.from({ length: 1000 }, (_, i) => i);
  assert.throws(
    () => planParameterSets({ parameters: { a: big, b: big, c: big } }, 'python', 1000),
    refused('SWEEP_TOO_LARGE', /1000000000 runs, more than the 1000/),
  );
  assert.throws(() => planParameterSets({ runs: [{}, {}, {}] }, 'python', 2), refused('SWEEP_TOO_LARGE', /3 runs/));
  assert.equal(planParameterSets({ runs: [{}, {}] }, 'python', 2).length, 2);
});

test('values render as papermill renders them, per language', () => {
  const value = { s: 'a"b\n$x', n: null, t: true, l: [1, 2.5] };
  assert.equal(renderValue(value, 'python'), '{"s": "a\\"b\\n$x", "n": None, "t": True, "l": [1, 2.5]}');
  assert.equal(renderValue(value, 'r'), 'list("s" = "a\\"b\\n$x", "n" = NULL, "t" = TRUE, "l" = list(1, 2.5))');
  assert.equal(renderValue(value, 'julia'), 'Dict("s" => "a\\"b\\n\\$x", "n" => nothing, "t" => true, "l" => [1, 2.5])');
  assert.equal(parameterAssignments({ lr: 0.1, name: 'x' }, 'python'), '# Parameters\nlr = 0.1\nname = "x"\n');
});

test('the language comes from the kernelspec; others are a clear error', () => {
  assert.equal(parameterLanguageOf('Python'), 'python');
  assert.equal(parameterLanguageOf('R'), 'r');
  assert.equal(parameterLanguageOf(undefined), 'python');
  assert.throws(() => parameterLanguageOf('scala'), refused('UNSUPPORTED_LANGUAGE', /scala/));
});

test('run notebooks are named with four digits, more when needed', () => {
  assert.equal(runNotebookName(7, 40), 'run-0007.ipynb');
  assert.equal(runNotebookName(7, 20_000), 'run-00007.ipynb');
});
