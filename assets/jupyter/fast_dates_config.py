# jlab-mcp: Jupyter server config that makes jupyter_client read message dates with
# datetime.fromisoformat instead of dateutil's general parser. Loaded like nodelay_config.py;
# it does not change `c`, and loading it twice is safe.
#
# Why: the server reads the header of every IOPub message of every kernel (activity tracking:
# last_activity, execution_state), and jupyter_client's Session.deserialize turns each ISO 8601
# string of the header into a datetime with dateutil.parser.parse. Profiled (py-spy) under
# `1+1` cells, that date parsing was ~45% of jupyter-server 1.23's CPU (~1 ms of ~2.4 ms per
# cell), on the same two cores as the kernel.
#
# How: jupyter_client.jsonutil.parse_date is replaced by a function that gives the same result:
# for a string the module's own ISO8601_PAT matches, datetime.fromisoformat (Python 3.11 reads
# every such string) and the module's own _ensure_tzinfo; anything else, or a string
# fromisoformat refuses (an older Python, an impossible date), goes to the original function.
# extract_dates looks parse_date up in its module at each call, so it picks the new one up.
# A jupyter_client without these names (another major version) is left alone.


def _jlab_mcp_install_fast_dates():
    from datetime import datetime

    from jupyter_client import jsonutil

    original = getattr(jsonutil, "parse_date", None)
    pattern = getattr(jsonutil, "ISO8601_PAT", None)
    ensure_tzinfo = getattr(jsonutil, "_ensure_tzinfo", None)
    if original is None or pattern is None or ensure_tzinfo is None:
        return
    if getattr(original, "_jlab_mcp_fast", False):
        return

    def parse_date(s):
        if isinstance(s, str) and pattern.match(s):
            try:
                parsed = datetime.fromisoformat(s)
            except ValueError:
                return original(s)
            return ensure_tzinfo(parsed)
        return original(s)

    parse_date._jlab_mcp_fast = True
    parse_date.__doc__ = original.__doc__
    jsonutil.parse_date = parse_date


try:
    _jlab_mcp_install_fast_dates()
except Exception:  # never let this file break server startup
    pass
