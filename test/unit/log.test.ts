import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardStdout, setLogLevel, tracebackSummary } from '../../src/util/log.js';

// What jupyter-server 1.23 answers (and @jupyterlab/services prints) for an unknown kernel name.
const NO_SUCH_KERNEL = `Traceback (most recent call last):
  File "/usr/lib/python3/dist-packages/tornado/web.py", line 1735, in _execute
    result = await result
  File "/usr/lib/python3/dist-packages/jupyter_client/kernelspec.py", line 294, in get_kernel_spec
    raise NoSuchKernel(kernel_name)
jupyter_client.kernelspec.NoSuchKernel: No such kernel named nosuchkernel
`;

describe('log', () => {
  it('sums up a Python traceback in its last line', () => {
    assert.equal(tracebackSummary(NO_SUCH_KERNEL), 'NoSuchKernel: No such kernel named nosuchkernel');
    assert.equal(tracebackSummary('Traceback (most recent call last):\n  File "x", line 1\nKeyboardInterrupt\n'), 'KeyboardInterrupt');
    assert.equal(tracebackSummary('something else broke'), undefined);
  });

  it("turns a library's console.error traceback into one info line; other errors stay errors", () => {
    const saved = { error: console.error, write: process.stderr.write };
    const lines: string[] = [];
    process.stderr.write = ((chunk: string) => lines.push(chunk) > 0) as typeof process.stderr.write;
    try {
      guardStdout();
      setLogLevel('info');
      console.error(NO_SUCH_KERNEL);
      console.error('plain failure');
    } finally {
      process.stderr.write = saved.write;
      console.error = saved.error;
    }
    assert.deepEqual(lines, [
      '[jlab-mcp] info: the Jupyter server refused a request: NoSuchKernel: No such kernel named nosuchkernel (its traceback at JLAB_MCP_LOG_LEVEL=debug)\n',
      '[jlab-mcp] error: plain failure\n',
    ]);
  });
});
