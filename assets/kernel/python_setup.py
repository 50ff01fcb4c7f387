# Run silently by jlab-mcp in every Python kernel it starts (and again after each restart).
# ipykernel gathers everything printed between two flushes (0.2 s) into one message, so a loop
# printing 50 MB becomes one 50 MB websocket frame, which costs the server and jlab-mcp several
# times that in memory at once. Flushing once 1 MB has piled up keeps each message near 1 MB
# and lets long outputs arrive as they are printed. Nothing else about printing changes.
def _jlab_mcp_chunk_streams(limit=1 << 20):
    try:
        from ipykernel.iostream import OutStream
    except Exception:
        return
    if getattr(OutStream, "_jlab_mcp_chunked", False):
        return
    original = OutStream.write

    # ipykernel 6 keeps one `_buffer`; ipykernel 7 one per parent message in `_buffers`.
    def pending(self):
        try:
            buffer = getattr(self, "_buffer", None)
            if buffer is not None:
                return buffer.tell()
            return sum(b.tell() for b in list(getattr(self, "_buffers", {}).values()))
        except Exception:
            return 0

    def write(self, string):
        if not isinstance(string, str) or len(string) <= limit and pending(self) < limit:
            return original(self, string)
        for start in range(0, len(string) or 1, limit):
            original(self, string[start:start + limit])
            try:
                if pending(self) >= limit:
                    self.flush()
            except Exception:
                pass
        return len(string)

    OutStream.write = write
    OutStream._jlab_mcp_chunked = True


_jlab_mcp_chunk_streams()
del _jlab_mcp_chunk_streams


# IPython's history goes to memory, as nbclient and papermill keep it (their `:memory:` default):
# the notebook is the record of what ran. The shared history.sqlite in the profile costs the
# kernel ~0.7 ms of CPU per cell (a commit per cell from a saving thread, into a file that grows
# by every cell an agent ever ran), and several kernels at once on a home directory over NFS end
# in "database is locked". `%history`, `_i`, `In` and `Out` keep working for the kernel's life.
# A person who set `HistoryManager.hist_file` in their IPython config keeps their file.
def _jlab_mcp_history_in_memory():
    try:
        history = get_ipython().history_manager
    except Exception:
        return
    if history is None or not history.enabled or history.hist_file == ":memory:":
        return
    for section in ("HistoryManager", "HistoryAccessor"):
        if "hist_file" in history.config.get(section, {}):
            return
    thread = getattr(history, "save_thread", None)
    if thread is not None:
        thread.stop()
        history.save_thread = None
    if hasattr(history, "using_thread"):  # IPython 9
        history.using_thread = False
    try:
        history.writeout_cache()  # what the thread had not written yet (cells run before this setup, if any)
        history.db.close()
    except Exception:
        pass
    history.hist_file = ":memory:"
    history.init_db()
    history.new_session()


try:
    _jlab_mcp_history_in_memory()
except Exception:
    pass  # IPython's own history stays as it was
del _jlab_mcp_history_in_memory


# Nobody can type into a kernel jlab-mcp runs: every prompt that waits for a person (a debugger,
# interactive help, input(), sys.stdin) either fails at once with StdinNotAvailable, saying what
# to do instead, or, with JLAB_MCP_STDIN_ANSWER set, gets that answer — a debugger at most
# DEBUGGER_ANSWERS times per cell, so it can never loop. Without this, `%pdb on` plus an error
# ends in an exception inside IPython's traceback display and the kernel never replies, and an
# answer such as "y" keeps a debugger asking forever.
# jlab-mcp puts `_jlab_mcp_stdin_answer = <JSON string or None>` in front of this file.
def _jlab_mcp_no_terminal(answer):
    import sys
    import types

    state = sys.modules.get("jlab_mcp_kernel")
    if state is not None:  # run again in the same process: only the answer can change
        state.answer = answer
        return
    state = types.ModuleType("jlab_mcp_kernel", "What jlab-mcp changed in this kernel.")
    state.answer = answer
    state.debugger_answers = 0  # answers given to debugger prompts in the running cell
    state.DEBUGGER_ANSWERS = 20
    try:
        from IPython.core.error import StdinNotImplementedError as base
    except Exception:
        base = NotImplementedError

    # A subclass of IPython's own error, so code that already handles a frontend without
    # stdin (e.g. IPython's yes/no confirmations) still does.
    class StdinNotAvailable(base):
        """A cell asked for typed input; jlab-mcp runs cells without a terminal."""

    StdinNotAvailable.__module__ = "jlab_mcp_kernel"
    state.StdinNotAvailable = StdinNotAvailable
    sys.modules["jlab_mcp_kernel"] = state

    # IPython hides frames that set __tracebackhide__, except the last one: raising from a
    # function without source keeps this setup code out of the user's traceback.
    namespace = {}
    exec(compile("def throw(error):\n    raise error from None\n", "<jlab-mcp: no terminal>", "exec"), namespace)
    throw = namespace["throw"]
    debug_how = (
        "Inspect values with print() or display(), run the failing lines in a cell of their own, "
        "or after an error use %tb for the full traceback and sys.last_value / sys.last_traceback "
        "(traceback.walk_tb(sys.last_traceback) gives each frame and its f_locals)."
    )

    def fail(what, how=debug_how):
        __tracebackhide__ = True
        throw(StdinNotAvailable(
            f"{what} waits for someone to type, and jlab-mcp runs cells without a terminal, "
            f"so it stopped instead of waiting. {how}"
        ))

    def debugger_allowed(what):
        """Raises unless a debugger may take commands now (an answer is set and unspent)."""
        __tracebackhide__ = True
        if state.answer is None:
            fail(what)
        if state.debugger_answers >= state.DEBUGGER_ANSWERS:
            throw(StdinNotAvailable(
                f"{what} wanted more commands after {state.DEBUGGER_ANSWERS} prompts in this cell "
                f"were answered with JLAB_MCP_STDIN_ANSWER={state.answer!r}; jlab-mcp runs cells "
                f"without a terminal and stopped it so that it cannot loop forever. {debug_how}"
            ))

    class Answers:
        """A debugger's stdin: the configured answer, a bounded number of times per cell."""

        def readline(self):
            __tracebackhide__ = True
            debugger_allowed("The debugger")
            state.debugger_answers += 1
            sys.stdout.write(state.answer + "\n")  # the transcript shows the prompt's answer
            return state.answer + "\n"

    # Each part on its own, so one that does not fit this IPython leaves the others working;
    # what failed is kept for debugging (import jlab_mcp_kernel; jlab_mcp_kernel.setup_errors).
    state.setup_errors = []
    for patch, args in (
        (_jlab_mcp_patch_debuggers, (debugger_allowed, Answers)),
        (_jlab_mcp_patch_ipython, (state, fail, debugger_allowed)),
        (_jlab_mcp_patch_help, (fail,)),
        (_jlab_mcp_patch_stdin, (fail,)),
    ):
        try:
            patch(*args)
        except Exception as error:
            state.setup_errors.append(f"{patch.__name__}: {error!r}")


def _jlab_mcp_patch_debuggers(debugger_allowed, Answers):
    import bdb
    import pdb
    import sys

    set_trace = bdb.Bdb.set_trace
    interaction = pdb.Pdb.interaction

    def guarded_set_trace(self, frame=None):
        __tracebackhide__ = True
        debugger_allowed("pdb.set_trace()")
        return set_trace(self, frame or sys._getframe().f_back)

    # Every debugger stop (set_trace, breakpoint(), post_mortem, pdb.run, %debug, IPython's
    # debugger) comes here; raising inside a trace function also switches tracing off.
    def guarded_interaction(self, frame, traceback):
        __tracebackhide__ = True
        try:
            debugger_allowed("The debugger (pdb)")
        except BaseException:
            sys.settrace(None)
            raise
        self.use_rawinput = False
        self.stdin = Answers()
        return interaction(self, frame, traceback)

    # The default hook is debugpy's, which does nothing without a debugging frontend.
    def breakpointhook(*args, **kwargs):
        __tracebackhide__ = True
        debugger_allowed("breakpoint()")
        pdb.Pdb().set_trace(sys._getframe().f_back)

    bdb.Bdb.set_trace = guarded_set_trace
    pdb.Pdb.interaction = guarded_interaction
    sys.breakpointhook = breakpointhook


def _jlab_mcp_patch_ipython(state, fail, debugger_allowed):
    import sys

    try:
        shell = get_ipython()  # noqa: F821 — the kernel's builtin
    except NameError:
        return
    shell.events.register("pre_execute", lambda: setattr(state, "debugger_answers", 0))

    # The kernel's prompts for input() and getpass(): the same failure, in clearer words.
    kernel = getattr(shell, "kernel", None)
    for name, what, how in (
        ("raw_input", "input()", "Put the value in the code instead (name = 'x' rather than input()), "
         "or start jlab-mcp with JLAB_MCP_STDIN_ANSWER set; every input() then gets that answer."),
        ("getpass", "getpass()", "Read the secret from an environment variable or a file instead "
         "(os.environ['TOKEN'])."),
    ):
        original = getattr(kernel, name, None)
        if original is None:
            continue

        def prompt(*args, _original=original, _what=what, _how=how, **kwargs):
            __tracebackhide__ = True
            try:
                return _original(*args, **kwargs)
            except Exception as error:
                if type(error).__name__ != "StdinNotImplementedError":
                    raise
            fail(_what, _how)

        setattr(kernel, name, prompt)  # the kernel installs self.raw_input as input() per request

    # %pdb's automatic debugger runs inside IPython's traceback display, where an exception
    # would escape run_cell and leave the request without a reply: report and return instead.
    debugger = shell.debugger

    def automatic_debugger(force=False):
        if not (force or shell.call_pdb):
            return
        try:
            debugger_allowed("%pdb on (the debugger after an error)")
            debugger(force)
        except Exception as error:
            print(f"{type(error).__name__}: {error}", file=sys.stderr)

    shell.debugger = automatic_debugger
    execution = shell.magics_manager.registry.get("ExecutionMagics")
    if execution is None:
        return

    def debug_post_mortem():
        __tracebackhide__ = True
        debugger_allowed("%debug")
        debugger(force=True)

    execution._debug_post_mortem = debug_post_mortem
    magics = shell.magics_manager.magics["line"]
    pdb_magic = magics.get("pdb")
    if pdb_magic is None:
        return

    def pdb_switch(parameter_s=""):
        result = pdb_magic(parameter_s)
        if shell.call_pdb and state.answer is None:
            print(
                "jlab-mcp: there is no terminal to debug in, so after an error you get the "
                "traceback and a StdinNotAvailable note instead of the debugger.",
                file=sys.stderr,
            )
        return result

    magics["pdb"] = pdb_switch


def _jlab_mcp_patch_help(fail):
    import pydoc

    how = "Ask about one thing instead: help(len), help('modules'), help('keywords'), or obj? in IPython."
    call = pydoc.Helper.__call__

    # Interactive help reads topics in a loop; an answer would keep it asking forever.
    def helper_call(self, *args, **kwargs):
        __tracebackhide__ = True
        if not args and not kwargs:
            fail("help() with no argument (interactive help)", how)
        return call(self, *args, **kwargs)

    pydoc.Helper.__call__ = helper_call  # builtins.help calls pydoc.help


def _jlab_mcp_patch_stdin(fail):
    import sys

    how = "Read the data from a file instead (open(path)), or put it in the code."

    class NoStdin:
        """sys.stdin without a terminal: reading fails at once, everything else is the original."""

        def __init__(self, original, name):
            self._original = original
            self._name = name

        def _fail(self, what):
            __tracebackhide__ = True
            fail(what.format(self._name), how)

        def __repr__(self):
            return f"<{self._name}: no terminal, reading fails at once (jlab-mcp)>"

        def read(self, *args):
            __tracebackhide__ = True
            self._fail("{}.read()")

        def read1(self, *args):
            __tracebackhide__ = True
            self._fail("{}.read1()")

        def readinto(self, *args):
            __tracebackhide__ = True
            self._fail("{}.readinto()")

        def readline(self, *args):
            __tracebackhide__ = True
            self._fail("{}.readline()")

        def readlines(self, *args):
            __tracebackhide__ = True
            self._fail("{}.readlines()")

        def __iter__(self):
            return self

        def __next__(self):
            __tracebackhide__ = True
            self._fail("Iterating over {}")

        def isatty(self):
            return False

        @property
        def buffer(self):
            return NoStdin(getattr(self._original, "buffer", None), self._name + ".buffer")

        def __getattr__(self, name):
            original = self.__dict__.get("_original")
            if original is None:
                raise AttributeError(name)
            return getattr(original, name)

    NoStdin.__module__ = "jlab_mcp_kernel"
    NoStdin.__qualname__ = "NoStdin"
    sys.stdin = NoStdin(sys.stdin, "sys.stdin")


try:
    _jlab_mcp_no_terminal(globals().get("_jlab_mcp_stdin_answer"))
finally:
    del _jlab_mcp_no_terminal, _jlab_mcp_patch_debuggers, _jlab_mcp_patch_ipython
    del _jlab_mcp_patch_help, _jlab_mcp_patch_stdin
    globals().pop("_jlab_mcp_stdin_answer", None)
