import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { KernelAPI, KernelConnection } from '@jupyterlab/services';
import { LocalBackend } from '../../src/backends/local/localBackend.js';
import { serverSettings } from '../../src/jupyter/endpoint.js';
import { guardStdout, setLogLevel } from '../../src/util/log.js';
import { holdsWithin, waitUntil } from '../helpers/poll.js';

guardStdout();
setLogLevel('warn');

const run = promisify(execFile);
const FAST_DATES = path.resolve('assets/jupyter/fast_dates_config.py');
const LEAN_ACTIVITY = path.resolve('assets/jupyter/lean_activity_config.py');

/** Every kind of string a message header can hold, and some it should not. */
const SAMPLES = [
  '2026-12-07T01:47:17.663495Z',
  '2026-12-07T01:47:17Z',
  '2026-12-07T01:47:17.6Z',
  '2026-12-07T01:47:17.663495+00:00',
  '2026-12-07T01:47:17+02:00',
  '2026-12-07T01:47:17-0530',
  '2026-12-07T01:47:17.123456',
  '2026-02-30T01:47:17Z',
  '2026-12-07',
  '2026-12-07 01:47:17',
  'hello',
  '',
];

describe('the Jupyter server config (assets/jupyter)', () => {
  it('fast_dates_config.py reads every header date as dateutil does (same instant, offset and text), and loading it twice is safe', async () => {
    // The Debian server's interpreter, as the local backend runs it here.
    const script = `
import datetime, json, sys, warnings
warnings.simplefilter("ignore")
from jupyter_client import jsonutil
original = jsonutil.parse_date
source = open(sys.argv[1]).read()
exec(source, {"c": None})
patched = jsonutil.parse_date
exec(source, {"c": None})
def outcome(f, s):
    # A datetime by its value, its offset and its text as the server writes it back (isoformat);
    # the tzinfo class may differ (dateutil's tzlocal/tzutc, the stdlib's timezone.utc).
    try:
        value = f(s)
    except Exception as e:
        return ["error", type(e).__name__]
    if isinstance(value, datetime.datetime):
        return ["datetime", value.isoformat(), str(value.utcoffset()), value.timestamp()]
    return ["value", repr(value)]
samples = json.loads(sys.argv[2]) + [None]
print(json.dumps({
    "installed": patched is not original and getattr(patched, "_jlab_mcp_fast", False),
    "twice_same": jsonutil.parse_date is patched,
    "extract": repr(jsonutil.extract_dates({"header": {"date": "2026-12-07T01:47:17.663495Z"}})),
    "pairs": [[s, outcome(original, s), outcome(patched, s)] for s in samples],
}))
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, FAST_DATES, JSON.stringify(SAMPLES)], { timeout: 30_000 });
    const result = JSON.parse(stdout) as { installed: boolean; twice_same: boolean; extract: string; pairs: Array<[string | null, unknown, unknown]> };
    assert.equal(result.installed, true, 'parse_date was not replaced');
    assert.equal(result.twice_same, true, 'a second load replaced it again');
    assert.match(result.extract, /datetime\.datetime\(2026, 12, 7, 1, 47, 17, 663495, tzinfo=/);
    assert.ok(
      result.pairs.some(([, before]) => (before as string[])[0] === 'datetime'),
      'no sample read as a date',
    );
    for (const [sample, before, after] of result.pairs) assert.deepEqual(after, before, `parse_date(${JSON.stringify(sample)})`);
  });

  it('lean_activity_config.py: the watcher reads each message as the original Session does, only there, and debug records only when a handler takes them', async () => {
    const script = `
import json, logging, sys, uuid
from jupyter_client.session import Session
from jupyter_server.services.kernels import kernelmanager
source = open(sys.argv[1]).read()
original = kernelmanager.MappingKernelManager.start_watching_activity
exec(source, {"c": None})
patched = kernelmanager.MappingKernelManager.start_watching_activity
exec(source, {"c": None})

# The session the watcher builds, as start_watching_activity builds it (the module's Session, inside the call).
made = []
class Kernel:
    session = Session(key=uuid.uuid4().hex.encode())
    def connect_iopub(self):
        class Stream:
            def on_recv(self, callback): made.append(callback)
        return Stream()
class Manager:
    def __init__(self):
        self._kernels = {"k": Kernel()}
        self.log = logging.getLogger("jlab-mcp-lean-test")
        self.track_message_type = lambda t: t in ("execute_request",)
Manager.start_watching_activity = patched
manager = Manager()
handler = logging.StreamHandler(sys.stderr)
handler.setLevel(logging.INFO)
manager.log.addHandler(handler)
manager.log.setLevel(logging.DEBUG)
manager.log.propagate = False
real_session = kernelmanager.Session
manager.start_watching_activity("k")
restored = kernelmanager.Session is real_session
# The watcher's private session, from record_activity's closure.
watcher = [cell.cell_contents for cell in (made[0].__closure__ or []) if isinstance(cell.cell_contents, Session)] if made else []

key = Kernel.session.key
sender = Session(key=key)
plain = Session(key=key)
request = sender.msg("execute_request", {"code": "1+1"})
results = []
for msg_type, content in [("status", {"execution_state": "busy"}), ("execute_result", {"data": {"text/plain": "2"}, "metadata": {}, "execution_count": 1}), ("stream", {"name": "stdout", "text": "x" * 5000})]:
    parts = sender.serialize(sender.msg(msg_type, content, parent=request), ident=b"kernel.x." + msg_type.encode())
    _, fed = plain.feed_identities(parts)
    for with_content in (False, True):
        want = plain.deserialize(fed, content=with_content)
        got = watcher[0].deserialize(fed, content=with_content)
        results.append({
            "msg_type": [want["msg_type"], got["msg_type"]],
            "parent": [want["parent_header"]["msg_type"], got["parent_header"]["msg_type"]],
            "content": [want["content"] if with_content else None, got["content"] if with_content else None],
            "msg_id": [want["msg_id"], got["msg_id"]],
        })
# The watcher itself, fed the kernel's messages: the state and the activity it records.
kernel = manager._kernels["k"]
states = []
for state in ("busy", "idle"):
    made[0](sender.serialize(sender.msg("status", {"execution_state": state}, parent=request), ident=b"kernel.x.status"))
    states.append(kernel.execution_state)
made[0](sender.serialize(sender.msg("stream", {"name": "stdout", "text": "x"}, parent=request), ident=b"stream.stdout"))
log = manager.log
quiet = {"debug": log.isEnabledFor(logging.DEBUG), "info": log.isEnabledFor(logging.INFO)}
handler.setLevel(logging.DEBUG)
loud = {"debug": log.isEnabledFor(logging.DEBUG)}
print(json.dumps({
    "installed": patched is not original and getattr(patched, "_jlab_mcp_lean", False),
    "twice_same": kernelmanager.MappingKernelManager.start_watching_activity is patched,
    "watchers": len(watcher), "lean": type(watcher[0]).__name__ if watcher else None, "restored": restored,
    "callbacks": len(made), "results": results, "quiet": quiet, "loud": loud,
    "states": states, "activity": str(getattr(kernel, "last_activity", None)),
}))
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, LEAN_ACTIVITY], { timeout: 30_000 });
    const result = JSON.parse(stdout) as {
      installed: boolean;
      twice_same: boolean;
      watchers: number;
      lean: string | null;
      restored: boolean;
      callbacks: number;
      results: Array<Record<string, [unknown, unknown]>>;
      quiet: { debug: boolean; info: boolean };
      loud: { debug: boolean };
      states: string[];
      activity: string;
    };
    assert.equal(result.installed, true, 'start_watching_activity was not replaced');
    assert.equal(result.twice_same, true, 'a second load replaced it again');
    assert.equal(result.watchers, 1, "the watcher's session, in its closure");
    assert.equal(result.lean, 'WatcherSession', "the watcher's session is not the lean one");
    assert.equal(result.restored, true, "the module's Session was not put back after the call");
    assert.equal(result.callbacks, 1, 'the watcher did not subscribe');
    assert.equal(result.results.length, 6);
    assert.deepEqual(result.states, ['busy', 'idle'], 'the execution state the watcher recorded');
    assert.match(result.activity, /^\d{4}-\d\d-\d\d /, 'last_activity');
    for (const row of result.results) for (const [field, [want, got]] of Object.entries(row)) assert.deepEqual(got, want, field);
    assert.deepEqual(result.quiet, { debug: false, info: true }, 'debug records are built with an INFO handler only');
    assert.deepEqual(result.loud, { debug: true }, 'a DEBUG handler (--debug) gets no debug records');
  });

  it('a local server with it still tracks each kernel: busy, idle and last_activity over REST', async () => {
    const rootDir = await mkdtemp(path.join(os.tmpdir(), 'jlab-srvcfg-'));
    const backend = new LocalBackend({ rootDir, startTimeoutMs: 60_000 });
    try {
      const endpoint = await backend.start(AbortSignal.timeout(70_000));
      const runtimeDir = (backend.describe() as { runtimeDir: string }).runtimeDir;
      const config = await readFile(path.join(runtimeDir, 'jlab_mcp_server_config.py'), 'utf8');
      assert.match(config, /_jlab_mcp_install_fast_dates\(\)/);
      assert.match(config, /_jlab_mcp_install_lean_activity\(\)/);
      const settings = serverSettings(endpoint);
      const model = await KernelAPI.startNew({}, settings);
      const connection = new KernelConnection({ model, serverSettings: settings, handleComms: false });
      try {
        await connection.info;
        // The server's own IOPub subscription to a new kernel can join late (ZMQ's slow joiner): it
        // missed the statuses of the first requests in 3 of 4 runs on 2026-12-07, and the kernel stays
        // "starting" until it reads one. Once it reads a kernel_info's, it reads every status after.
        await waitUntil(
          "the server reading the new kernel's statuses",
          async () => {
            await connection.requestKernelInfo();
            return (await KernelAPI.getKernelModel(model.id, settings))?.execution_state === 'idle';
          },
          { timeoutMs: 15_000 },
        );
        const before = (await KernelAPI.getKernelModel(model.id, settings))!;
        const running = connection.requestExecute({ code: 'import time; time.sleep(1.5)' });
        // The server learns busy from the kernel's IOPub status message, through the patched reader.
        const state = async () => (await KernelAPI.getKernelModel(model.id, settings))?.execution_state;
        const busy = await holdsWithin('the server seeing the kernel busy', async () => (await state()) === 'busy', { timeoutMs: 3000, intervalMs: 50 });
        assert.ok(busy, 'the server never saw the kernel busy');
        await running.done;
        await holdsWithin('the server seeing the kernel idle again', async () => (await state()) === 'idle', { timeoutMs: 3000, intervalMs: 50 });
        const after = (await KernelAPI.getKernelModel(model.id, settings))!;
        assert.equal(after.execution_state, 'idle');
        const activity = (m: { last_activity?: string }) => Date.parse(String(m.last_activity));
        assert.ok(Number.isFinite(activity(after)), `last_activity ${String(after.last_activity)}`);
        assert.ok(activity(after) > activity(before), 'last_activity did not move with the cell');
      } finally {
        connection.dispose();
        await KernelAPI.shutdownKernel(model.id, settings).catch(() => {});
      }
    } finally {
      await backend.stop();
      await rm(rootDir, { recursive: true, force: true });
    }
  });
});
