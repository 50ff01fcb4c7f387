import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { applyCarriageReturnsAndBackspaces, cleanStreamText, renderMimeBundleAsText, stripTerminalControls, truncateMiddle } from '../../src/output/index.js';
import { agentParts, agentText, budgetAgentParts } from '../../src/output/agentContent.js';
import { wellFormed } from '../../src/output/wellFormed.js';
import type { Output } from '../../src/notebook/types.js';

declare global {
  interface String {
    /** Node 20 has it; our ES2022 lib types do not. */
    toWellFormed(): string;
  }
}

const ESC = '\x1b';
const BEL = '\x07';
const ST = `${ESC}\\`;

describe('stripTerminalControls', () => {
  it('removes SGR colour sequences', () => {
    assert.equal(stripTerminalControls(`${ESC}[1;31mError${ESC}[0m: boom ${ESC}[38;5;208mx${ESC}[m`), 'Error: boom x');
  });

  it('removes cursor moves, erase and private-mode sequences', () => {
    assert.equal(stripTerminalControls(`a${ESC}[2Kb${ESC}[Ac${ESC}[?25ld${ESC}[?25h${ESC}[10;20He`), 'abcde');
  });

  it('keeps OSC 8 hyperlink text with BEL terminators', () => {
    const link = `see ${ESC}]8;;https://example.com/x?a=1${BEL}the docs${ESC}]8;;${BEL} now`;
    assert.equal(stripTerminalControls(link), 'see the docs now');
  });

  it('keeps OSC 8 hyperlink text with ST terminators and params', () => {
    const link = `see ${ESC}]8;id=42;file:///tmp/a.txt${ST}a.txt${ESC}]8;;${ST} now`;
    assert.equal(stripTerminalControls(link), 'see a.txt now');
  });

  it('drops OSC window titles', () => {
    assert.equal(stripTerminalControls(`${ESC}]0;my title${BEL}hello${ESC}]2;other${ST}!`), 'hello!');
  });

  it('drops an unterminated OSC only up to the end of its line', () => {
    assert.equal(stripTerminalControls(`a${ESC}]0;title\nnext`), 'a\nnext');
  });

  it('removes 8-bit C1 CSI and OSC forms', () => {
    assert.equal(stripTerminalControls('\x9b31mred\x9b0m \x9d8;;http://x\x07link\x9d8;;\x9c'), 'red link');
  });

  it('removes other two-char ESC sequences', () => {
    assert.equal(stripTerminalControls(`${ESC}(Ba${ESC}=b${ESC}7c${ESC}8d${ESC}Me${ESC}>`), 'abcde');
  });

  it('removes other C0 controls but keeps \\n \\t \\r \\b', () => {
    assert.equal(stripTerminalControls('a\x00b\x07c\x0bd\x0ce\x7ff\n\tg\rh\bi'), 'abcdef\n\tg\rh\bi');
  });

  it('drops an incomplete CSI at the end of a chunk', () => {
    assert.equal(stripTerminalControls(`done${ESC}[1;3`), 'done');
  });

  it('returns plain text unchanged', () => {
    const text = 'plain text – ünïcödé 😀\n';
    assert.equal(stripTerminalControls(text), text);
  });

  it('handles a 5 MB input correctly', () => {
    const unit = `${ESC}[32mok${ESC}[0m ${ESC}]8;;http://x${BEL}l${ESC}]8;;${BEL}\n`;
    const input = unit.repeat(Math.ceil((5 * 1024 * 1024) / unit.length));
    const out = stripTerminalControls(input);
    assert.equal(out, 'ok l\n'.repeat(input.length / unit.length));
  });

  it('handles 5 MB of pathological unterminated sequences', () => {
    const input = `${ESC}[${'1;'.repeat(2_500_000)}`;
    assert.equal(stripTerminalControls(input), '');
    const osc = `${ESC}]`.repeat(2_500_000);
    assert.equal(stripTerminalControls(osc), '');
  });
});

describe('applyCarriageReturnsAndBackspaces', () => {
  it('keeps only the last overwrite of a progress line', () => {
    assert.equal(applyCarriageReturnsAndBackspaces('10%\r20%\r100%\n'), '100%\n');
  });

  it('replaces the whole line when the overwrite is shorter (JupyterLab semantics)', () => {
    assert.equal(applyCarriageReturnsAndBackspaces('loading.....\rok\nnext'), 'ok\nnext');
  });

  it('treats \\r\\n (and \\r\\r\\n) as a newline', () => {
    assert.equal(applyCarriageReturnsAndBackspaces('a\r\nb\r\r\nc'), 'a\nb\nc');
  });

  it('keeps the current line on a trailing \\r', () => {
    assert.equal(applyCarriageReturnsAndBackspaces('start\n 50%\r 60%\r'), 'start\n 60%');
  });

  it('applies backspaces within a line only', () => {
    assert.equal(applyCarriageReturnsAndBackspaces('abc\b\bX\n\bY'), 'aX\nY');
  });

  it('removes a whole surrogate pair on backspace', () => {
    assert.equal(applyCarriageReturnsAndBackspaces('a😀\bb'), 'ab');
  });

  it('returns text without \\r or \\b unchanged', () => {
    assert.equal(applyCarriageReturnsAndBackspaces('x\ny\n'), 'x\ny\n');
  });

  it('handles a 5 MB input correctly', () => {
    const input = `${'x'.repeat(5_000_000) + '\b'.repeat(4_999_999) + '\r'.repeat(1000)}\n`;
    assert.equal(applyCarriageReturnsAndBackspaces(input), 'x\n');
  });
});

describe('cleanStreamText', () => {
  it('cleans a real tqdm sequence', () => {
    const tqdm =
      '\r  0%|          | 0/3 [00:00<?, ?it/s]' +
      `${ESC}[A\r 33%|###3      | 1/3 [00:01<00:02,  1.00s/it]` +
      `${ESC}[A\r 67%|######6   | 2/3 [00:02<00:01,  1.00s/it]` +
      `${ESC}[A\r100%|##########| 3/3 [00:03<00:00,  1.00s/it]\n`;
    assert.equal(cleanStreamText(tqdm), '100%|##########| 3/3 [00:03<00:00,  1.00s/it]\n');
  });

  it('shows the latest state of a still-running colored bar', () => {
    const chunk = `epoch 1\n${ESC}[32m 10%${ESC}[0m\r${ESC}[32m 20%${ESC}[0m\r`;
    assert.equal(cleanStreamText(chunk), 'epoch 1\n 20%');
  });

  it('resolves \\r\\n, backspaces and colours together', () => {
    assert.equal(cleanStreamText(`${ESC}[1mab\bc${ESC}[0m\r\nd`), 'ac\nd');
  });
});

describe('truncateMiddle', () => {
  const marker = (chars: number, lines: number): string => `[... ${chars} chars, ${lines} lines omitted ...]`;

  it('returns text within budget unchanged', () => {
    assert.deepEqual(truncateMiddle('abc\n', 4, marker), {
      text: 'abc\n',
      truncated: false,
      omittedChars: 0,
      omittedLines: 0,
    });
  });

  it('keeps head and tail at line boundaries with the marker on its own line', () => {
    const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')}`);
    const text = `${lines.join('\n')}\n`; // 100 lines of 9 chars = 900 chars
    const result = truncateMiddle(text, 200, marker);
    // usable 198: head 79 → snaps to 8 lines (72 chars); tail 119 → snaps to 13 lines (117 chars)
    const head = `${lines.slice(0, 8).join('\n')}\n`;
    const tail = `${lines.slice(87).join('\n')}\n`;
    assert.equal(result.truncated, true);
    assert.equal(result.omittedChars, 900 - head.length - tail.length);
    assert.equal(result.omittedLines, 79);
    assert.equal(result.text, `${head}[... 711 chars, 79 lines omitted ...]\n${tail}`);
    assert.ok(result.text.length <= 200 + marker(711, 79).length);
  });

  it('cuts mid-line when no newline is near and respects the budget', () => {
    const text = 'a'.repeat(1000) + 'b'.repeat(1000);
    const result = truncateMiddle(text, 102, marker);
    assert.equal(result.text, `${'a'.repeat(40)}\n[... 1900 chars, 0 lines omitted ...]\n${'b'.repeat(60)}`);
    assert.equal(result.omittedChars, 1900);
    assert.ok(result.text.length <= 102 + marker(1900, 0).length);
  });

  it('never splits a surrogate pair', () => {
    const text = '😀'.repeat(100); // 200 code units
    const result = truncateMiddle(text, 13, marker); // usable 11: head 4, tail 7
    const [head, , tail] = result.text.split('\n');
    assert.equal(head, '😀😀');
    assert.equal(tail, '😀😀😀');
    assert.equal(result.omittedChars, 200 - 4 - 6);
    assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(result.text));
  });

  it('returns just the marker for a zero budget', () => {
    assert.deepEqual(truncateMiddle('abc\ndef', 0, marker), {
      text: '[... 7 chars, 1 lines omitted ...]',
      truncated: true,
      omittedChars: 7,
      omittedLines: 1,
    });
  });
});

describe('renderMimeBundleAsText', () => {
  it('prefers text/plain and joins string arrays', () => {
    assert.equal(renderMimeBundleAsText({ 'text/html': '<b>x</b>', 'text/plain': ['   a  b\n', '0  1  2'] }), '   a  b\n0  1  2');
  });

  it('returns markdown as is', () => {
    assert.equal(renderMimeBundleAsText({ 'text/markdown': ['# Title\n', '*x*'] }), '# Title\n*x*');
  });

  it('strips html: scripts, styles, comments, blocks, cells and entities', () => {
    const html = [
      '<style>.x { color: red }</style>',
      '<script type="text/javascript">var a = "<p>no</p>";</script>',
      '<!-- hidden -->',
      '<div><p>Hello&nbsp;&amp; <b>bye</b></p>',
      '<table border="1">\n  <thead>\n    <tr><th></th><th>a</th><th>b</th></tr>\n  </thead>',
      '  <tbody>\n    <tr>\n      <th>0</th>\n      <td>1 &lt; 2</td>\n      <td>&#39;q&#x27; &quot;</td>\n    </tr>',
      '  </tbody>\n</table>',
      '<p></p><p></p><p>line<br>break &amp;lt; &#128512;</p></div>',
    ].join('\n');
    assert.equal(renderMimeBundleAsText({ 'text/html': html }), "Hello & bye\n| a | b\n0 | 1 < 2 | 'q' \"\n\nline\nbreak &lt; 😀");
  });

  it('preserves whitespace inside <pre>', () => {
    assert.equal(renderMimeBundleAsText({ 'text/html': '<p>Out:</p><pre>  a\n    b &gt; c</pre>' }), 'Out:\n\n  a\n    b > c');
  });

  it('returns latex as is', () => {
    assert.equal(renderMimeBundleAsText({ 'text/latex': '$x^2$' }), '$x^2$');
  });

  it('pretty-prints application/json', () => {
    assert.equal(renderMimeBundleAsText({ 'application/json': { a: [1, 2], b: null } }), '{\n  "a": [\n    1,\n    2\n  ],\n  "b": null\n}');
  });

  it('summarises svg with its UTF-8 byte size', () => {
    assert.equal(renderMimeBundleAsText({ 'image/svg+xml': ['<svg>', 'é</svg>'] }), '[SVG image, 13 bytes]');
  });

  it('returns undefined for image-only or empty bundles', () => {
    assert.equal(renderMimeBundleAsText({ 'image/png': 'iVBORw0KGgo=', 'image/jpeg': '/9j/' }), undefined);
    assert.equal(renderMimeBundleAsText({}), undefined);
  });
});

/** Every C0 control but \t and \n, DEL and the C1 controls: none may reach the agent. */
const FORBIDDEN_CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

function assertAgentSafe(text: string): void {
  assert.equal(text, text.toWellFormed(), 'no lone surrogates');
  assert.doesNotMatch(text, FORBIDDEN_CONTROLS);
}

describe('wellFormed', () => {
  it('replaces lone surrogates with U+FFFD and keeps pairs', () => {
    assert.equal(wellFormed('a\ud800b'), 'a\ufffdb');
    assert.equal(wellFormed('a\udc00b'), 'a\ufffdb');
    assert.equal(wellFormed('\udc00\ud800'), '\ufffd\ufffd', 'a pair in the wrong order is two lone halves');
    assert.equal(wellFormed('end\ud83d'), 'end\ufffd');
    assert.equal(wellFormed('ok \ud83d\ude00'), 'ok \ud83d\ude00');
  });
});

describe('agentText and agentParts: hostile output reaches the agent as valid text', () => {
  it('removes NUL and the other C0/C1 controls, keeps \\t and \\n, applies \\r and \\b', () => {
    assert.equal(agentText('a\x00b\x01c\x7fd\x85e\tf\n'), 'abcde\tf\n');
    assert.equal(agentText('10%\r100%\r\nx\by\n'), '100%\ny\n');
  });

  it('turns 256 raw bytes (as latin-1 or as invalid UTF-8) into safe text', () => {
    const raw = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const decoded of [raw.toString('latin1'), raw.toString('utf8'), new TextDecoder().decode(raw)]) {
      const text = agentText(decoded);
      assertAgentSafe(text);
      assert.ok(text.includes(' !"#$%&'), 'printable ASCII survives');
      assert.ok(text.includes('\n') && text.includes('\t'));
    }
  });

  it('never lets a lone surrogate or NUL through, whatever the output type', async () => {
    const outputs: Output[] = [
      { output_type: 'stream', name: 'stdout', text: ['half \ud800 pair\n', 'nul \x00 here\n'] },
      { output_type: 'display_data', data: { 'text/plain': 'display \udfff\x00\x1b[31mred\x1b[0m' }, metadata: {} },
      { output_type: 'execute_result', data: { 'text/html': '<b>&#0;&#xD800;\ud800</b>' }, metadata: {}, execution_count: 1 },
      { output_type: 'error', ename: 'Bad\x00Error', evalue: 'lone \udc80 and \r cr', traceback: ['\x1b[0;31mline\ud800\x00\x1b[0m'] },
    ];
    const { text } = agentParts(outputs);
    assertAgentSafe(text);
    assert.ok(text.includes('half \ufffd pair\nnul  here\n'));
    assert.ok(text.includes('display \ufffdred\n'));
    assert.ok(text.includes('BadError: lone \ufffd and \n cr\nline\ufffd\n'), 'a \\r in an error is a line break, not an overwrite');
    const content = await budgetAgentParts(agentParts(outputs), { textBudget: 30, maxImages: 1, cellLabel: 'cell 0' });
    assertAgentSafe((content[0] as { text: string }).text);
  });

  it('a budget cut through pairs of astral characters leaves no lone half', async () => {
    const text = '\ud83d\ude00'.repeat(5000);
    for (const budget of [501, 502, 503, 777]) {
      const content = await budgetAgentParts({ text, images: [] }, { textBudget: budget, maxImages: 0, cellLabel: 'cell 0' });
      assertAgentSafe((content[0] as { text: string }).text);
    }
  });
});
