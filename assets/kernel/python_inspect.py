# jlab-mcp's read-only look into a Python kernel (inspect_variables, kernel_resources, the
# environment on record). jlab-mcp executes this file silently (silent=True, store_history=False:
# no cell, no execution count, no history) into a module of its own, `jlab_mcp_inspect`, so no
# name lands in the user's namespace, and asks for the answer through the execute_reply's
# user_expressions: `call(<what>, <JSON arguments>)`, whose repr is one line of JSON.
#
# Rules: nothing here imports numpy, pandas, torch or xarray (importing torch alone takes seconds
# and memory); objects are recognised only through modules already in sys.modules, or by shape.
# Every fact is gathered under its own try, so one odd object cannot spoil the answer, and the
# text is kept within the budget jlab-mcp passes.
import json
import os
import socket
import sys
import traceback

VERSION = 1

# Packages whose versions the environment on record names, when installed (distribution names).
KEY_PACKAGES = (
    "numpy", "pandas", "scipy", "scikit-learn", "matplotlib", "xarray", "polars", "pyarrow",
    "torch", "torchvision", "tensorflow", "jax", "jaxlib", "cupy", "numba", "transformers",
    "ipykernel", "ipython", "jupyter_client",
)

# SLURM variables that describe the job's allocation, as the job itself sees them.
SLURM_VARS = (
    "SLURM_JOB_ID", "SLURM_JOB_NAME", "SLURM_JOB_PARTITION", "SLURM_JOB_NODELIST", "SLURM_JOB_ACCOUNT",
    "SLURM_CPUS_ON_NODE", "SLURM_JOB_CPUS_PER_NODE", "SLURM_CPUS_PER_TASK", "SLURM_MEM_PER_NODE",
    "SLURM_MEM_PER_CPU", "SLURM_MEM_PER_GPU", "SLURM_GPUS", "SLURM_GPUS_ON_NODE", "SLURM_JOB_GPUS",
    "SLURM_GPUS_PER_NODE", "SLURM_TRES_PER_TASK", "SLURM_JOB_GRES", "SLURM_NTASKS", "SLURM_NNODES",
)

GPU_QUERY = "index,uuid,name,memory.used,memory.total,utilization.gpu,temperature.gpu"
APPS_QUERY = "gpu_uuid,pid,process_name,used_memory"

_BUILTIN_COLLECTIONS = (str, bytes, bytearray, list, tuple, dict, set, frozenset, range)


class _Json(object):
    """Its repr is the JSON text: what IPython puts in the user_expression's text/plain."""

    __slots__ = ("text",)

    def __init__(self, value):
        self.text = json.dumps(value, default=str, ensure_ascii=True, separators=(",", ":"))

    def __repr__(self):
        return self.text


def call(what, arguments):
    """The one entry point: {"ok": result} or {"error": traceback text}."""
    try:
        handler = {"variables": variables, "resources": resources, "environment": environment}[what]
        return _Json({"ok": handler(**json.loads(arguments))})
    except Exception:
        return _Json({"error": traceback.format_exc(limit=5)[-4000:]})


# ----------------------------------------------------------------------------- variables

def _shell():
    try:
        from IPython import get_ipython
        return get_ipython()
    except Exception:
        return None


def _user_names():
    """The user's names, as %who sees them: no _private ones, none IPython put there itself."""
    shell = _shell()
    if shell is None:
        namespace = sys.modules["__main__"].__dict__
        hidden = {}
    else:
        namespace = shell.user_ns
        hidden = getattr(shell, "user_ns_hidden", {})
    marker = object()
    names = [n for n in list(namespace) if not n.startswith("_") and namespace[n] is not hidden.get(n, marker)]
    return namespace, sorted(names)


def _type_name(obj):
    kind = type(obj)
    module = getattr(kind, "__module__", "") or ""
    name = getattr(kind, "__qualname__", kind.__name__)
    return name if module == "builtins" else module + "." + name


def _loaded(module):
    return sys.modules.get(module)


def _cut(text, limit):
    """Head and tail of `text` within `limit` characters, with what was left out in between."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    marker = "\n… [{} characters omitted] …\n".format(len(text) - limit)
    keep = max(0, limit - len(marker))
    head = (keep * 2) // 3
    return text[:head] + marker + text[len(text) - (keep - head):] if keep > head else text[:head] + marker


def _shape(obj):
    """A tuple of ints from obj.shape (numpy, torch, cupy, jax, xarray, dask…), else None."""
    try:
        shape = getattr(obj, "shape", None)
    except Exception:
        return None
    if isinstance(shape, tuple) and all(isinstance(n, int) for n in shape):
        return list(shape)
    return None


def _array_facts(obj):
    facts = {}
    shape = _shape(obj)
    if shape is None or isinstance(obj, type):
        return facts
    facts["shape"] = shape
    for attribute in ("dtype", "device"):
        try:
            value = getattr(obj, attribute, None)
            if value is not None and not callable(value):
                facts[attribute] = str(value)
        except Exception:
            pass
    try:
        dims = getattr(obj, "dims", None)  # xarray
        if isinstance(dims, tuple):
            facts["dims"] = [str(d) for d in dims]
    except Exception:
        pass
    try:
        nbytes = getattr(obj, "nbytes", None)
        if isinstance(nbytes, int):
            facts["memory_bytes"] = nbytes
        elif callable(getattr(obj, "element_size", None)) and callable(getattr(obj, "nelement", None)):
            facts["memory_bytes"] = int(obj.element_size() * obj.nelement())  # torch
    except Exception:
        pass
    try:
        grad = getattr(obj, "requires_grad", None)
        if isinstance(grad, bool):
            facts["requires_grad"] = grad
    except Exception:
        pass
    return facts


def _pandas_facts(obj, columns=10):
    pd = _loaded("pandas")
    if pd is None:
        return None
    if isinstance(obj, pd.DataFrame):
        facts = {"shape": list(obj.shape)}
        try:
            facts["memory_bytes"] = int(obj.memory_usage(index=True, deep=False).sum())
        except Exception:
            pass
        facts["columns"] = [{"name": str(c), "dtype": str(t)} for c, t in list(obj.dtypes.items())[:columns]]
        if obj.shape[1] > columns:
            facts["columns_omitted"] = obj.shape[1] - columns
        return facts
    if isinstance(obj, pd.Series):
        facts = {"shape": list(obj.shape), "dtype": str(obj.dtype)}
        try:
            facts["memory_bytes"] = int(obj.memory_usage(index=True, deep=False))
        except Exception:
            pass
        if obj.name is not None:
            facts["series_name"] = str(obj.name)
        return facts
    if isinstance(obj, pd.Index):
        return {"shape": [len(obj)], "dtype": str(obj.dtype)}
    return None


def _xarray_dataset_facts(obj):
    xr = _loaded("xarray")
    if xr is None or not isinstance(obj, xr.Dataset):
        return None
    facts = {"dims": {str(k): int(v) for k, v in dict(obj.sizes).items()}, "data_vars": [str(v) for v in list(obj.data_vars)[:20]]}
    try:
        facts["memory_bytes"] = int(obj.nbytes)
    except Exception:
        pass
    return facts


def _torch_module_facts(obj):
    torch = _loaded("torch")
    nn = getattr(torch, "nn", None) if torch is not None else None
    if nn is None or not isinstance(obj, nn.Module):
        return None
    total = trainable = memory = 0
    devices, dtypes = set(), set()
    for parameter in obj.parameters():
        count = parameter.numel()
        total += count
        trainable += count if parameter.requires_grad else 0
        memory += count * parameter.element_size()
        devices.add(str(parameter.device))
        dtypes.add(str(parameter.dtype))
    return {"parameters": total, "trainable_parameters": trainable, "memory_bytes": memory, "device": ", ".join(sorted(devices)) or None, "dtype": ", ".join(sorted(dtypes)) or None}


def _rich_facts(obj):
    for gather in (_pandas_facts, _xarray_dataset_facts, _torch_module_facts):
        try:
            facts = gather(obj)
        except Exception:
            facts = None
        if facts is not None:
            return facts
    return _array_facts(obj)


def _repr(obj, limit, detailed=False):
    """A repr bounded in both time and size where the type allows (strings, containers, arrays)."""
    if isinstance(obj, (str, bytes, bytearray)):
        if len(obj) <= limit:
            return repr(obj)
        # Only the ends are ever turned into text: a 1 GB string costs no more than a short one.
        head = max(1, (limit * 2) // 3)
        tail = max(0, limit - head - 60)
        return "{} … [{} long] … {}".format(repr(obj[:head]), len(obj), repr(obj[len(obj) - tail:]) if tail else "")
    if isinstance(obj, (list, tuple, dict, set, frozenset)):
        import reprlib
        r = reprlib.Repr()
        r.maxlevel = 3 if detailed else 2
        r.maxlist = r.maxtuple = r.maxset = r.maxfrozenset = r.maxdict = 50 if detailed else 8
        r.maxstring = r.maxother = max(20, min(limit // 4, 400))
        return _cut(r.repr(obj), limit)
    np = _loaded("numpy")
    if np is not None and isinstance(obj, np.ndarray):
        with np.printoptions(threshold=200 if detailed else 20, edgeitems=5 if detailed else 3, linewidth=100):
            return _cut(repr(obj), limit)
    pd = _loaded("pandas")
    if pd is not None and isinstance(obj, (pd.DataFrame, pd.Series)):
        rows, cols = (20, 20) if detailed else (6, 8)
        with pd.option_context("display.max_rows", rows, "display.min_rows", rows, "display.max_columns", cols, "display.width", 120):
            return _cut(repr(obj), limit)
    return _cut(repr(obj), limit)


def _summary(name, obj, repr_chars, detailed=False):
    entry = {"name": name, "type": _type_name(obj)}
    try:
        entry.update(_rich_facts(obj))
    except Exception:
        pass
    if isinstance(obj, _BUILTIN_COLLECTIONS):
        try:
            entry["len"] = len(obj)
        except Exception:
            pass
    if "memory_bytes" not in entry:
        try:
            entry["size_bytes"] = sys.getsizeof(obj)  # shallow: the object itself, not what it refers to
        except Exception:
            pass
    try:
        entry["repr"] = _repr(obj, repr_chars, detailed)
    except Exception as error:
        entry["repr_error"] = "{}: {}".format(type(error).__name__, error)[:300]
    return entry


def _kind(obj):
    import types
    if isinstance(obj, types.ModuleType):
        return "module"
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)):
        return "callable"
    return "variable"


def _resolve(namespace, path):
    parts = path.split(".")
    if parts[0] not in namespace:
        raise KeyError(path)
    obj = namespace[parts[0]]
    for part in parts[1:]:
        obj = getattr(obj, part)
    return obj


def _details(path, obj, budget):
    entry = _summary(path, obj, max(200, budget // 2), detailed=True)
    kind = type(obj)
    entry["mro"] = [_type_name_of(c) for c in kind.__mro__[:8]]
    try:
        if isinstance(obj, dict):
            entry["keys"] = [_repr(k, 80) for k in list(obj)[:50]]
            entry["value_types"] = _type_counts(list(obj.values())[:1000])
        elif isinstance(obj, (list, tuple, set, frozenset)):
            entry["element_types"] = _type_counts(list(obj)[:1000])
        pd = _loaded("pandas")
        if pd is not None and isinstance(obj, pd.DataFrame):
            entry.update(_pandas_facts(obj, columns=100))
            entry["index"] = {"type": _type_name(obj.index), "dtype": str(obj.index.dtype), "len": len(obj.index)}
        import inspect
        if callable(obj) and not _shape(obj):
            try:
                entry["signature"] = path + str(inspect.signature(obj))
            except (TypeError, ValueError):
                pass
        doc = inspect.getdoc(obj) if _kind(obj) != "variable" else None
        if doc:
            entry["doc"] = _cut(doc, 800)
        if _kind(obj) == "module":
            entry["file"] = getattr(obj, "__file__", None)
            entry["version"] = str(getattr(obj, "__version__", "")) or None
        elif _kind(obj) == "variable" and hasattr(obj, "__dict__") and not _shape(obj):
            attributes = vars(obj)
            entry["attributes"] = {str(k): _type_name(v) for k, v in list(attributes.items())[:50] if not str(k).startswith("__")}
    except Exception as error:
        entry["details_error"] = "{}: {}".format(type(error).__name__, error)[:300]
    return entry


def _type_name_of(cls):
    module = getattr(cls, "__module__", "") or ""
    return cls.__qualname__ if module == "builtins" else module + "." + cls.__qualname__


def _type_counts(items):
    counts = {}
    for item in items:
        name = _type_name(item)
        counts[name] = counts.get(name, 0) + 1
    return counts


def variables(names=None, budget=20000, max_variables=300, repr_chars=120):
    """The user's variables (summaries), or the named ones in depth, in about `budget` characters."""
    namespace, all_names = _user_names()
    if names:
        share = max(400, budget // len(names))
        found, missing = [], []
        for path in names:
            try:
                obj = _resolve(namespace, path)
            except (KeyError, AttributeError) as error:
                missing.append({"name": path, "error": "{}: {}".format(type(error).__name__, error)[:300]})
                continue
            found.append(_details(path, obj, share))
        return {"variables": found, "missing": missing, "total": len(all_names)}
    result = {"variables": [], "modules": [], "callables": [], "total": len(all_names), "omitted": 0}
    used = 0
    for name in all_names:
        obj = namespace[name]
        kind = _kind(obj)
        if kind == "module":
            result["modules"].append(name if getattr(obj, "__name__", name) == name else "{} ({})".format(name, obj.__name__))
            continue
        if kind == "callable":
            result["callables"].append(name)
            continue
        if len(result["variables"]) >= max_variables or used > budget:
            result["omitted"] += 1
            continue
        entry = _summary(name, obj, repr_chars)
        used += len(json.dumps(entry, default=str))
        result["variables"].append(entry)
    return result


# ----------------------------------------------------------------------------- resources

def _read(path, limit=1 << 16):
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            return handle.read(limit)
    except OSError:
        return None


def _kib_fields(text, keys):
    """`Key:   123 kB` lines (/proc/meminfo, /proc/self/status) as bytes."""
    values = {}
    for line in (text or "").splitlines():
        key, _, rest = line.partition(":")
        if key in keys:
            parts = rest.split()
            if parts and parts[0].isdigit():
                values[key] = int(parts[0]) * (1024 if len(parts) > 1 and parts[1].lower() == "kb" else 1)
    return values


def _descendants(root):
    """`root` and every process below it (DataLoader workers, subprocesses), from /proc."""
    children = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return [root]
    for entry in entries:
        if not entry.isdigit():
            continue
        stat = _read("/proc/{}/stat".format(entry), 4096)
        if not stat:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, queue = [], [root]
    while queue and len(found) < 10000:
        pid = queue.pop()
        found.append(pid)
        queue.extend(children.get(pid, []))
    return found


def _cgroup_memory():
    """The cgroup v2 memory limit and use of this process (SLURM's job limit, a container's)."""
    for line in (_read("/proc/self/cgroup") or "").splitlines():
        if line.startswith("0::"):
            base = "/sys/fs/cgroup" + line[3:].strip()
            limit = (_read(base + "/memory.max") or "").strip()
            current = (_read(base + "/memory.current") or "").strip()
            if limit or current:
                return {"limit_bytes": int(limit) if limit.isdigit() else None, "current_bytes": int(current) if current.isdigit() else None}
    return None


def _nvidia_smi(query_args, timeout):
    """Raw CSV from nvidia-smi, or why there is none."""
    import shutil
    import subprocess
    command = shutil.which("nvidia-smi")
    if command is None:
        return {"available": False, "reason": "nvidia-smi is not on PATH on this host"}
    out = {"available": True}
    for key, args in query_args:
        try:
            done = subprocess.run([command] + args, capture_output=True, text=True, timeout=timeout)
            out[key] = done.stdout[-65536:]
            if done.returncode != 0:
                out[key + "_error"] = "exit {}: {}".format(done.returncode, (done.stderr or done.stdout).strip()[-500:])
        except subprocess.TimeoutExpired:
            out[key + "_error"] = "nvidia-smi did not answer within {} s".format(timeout)
        except OSError as error:
            out[key + "_error"] = str(error)
    return out


def resources(gpu_timeout=10):
    pid = os.getpid()
    cpu = {"count": os.cpu_count()}
    try:
        cpu["usable"] = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        pass
    try:
        cpu["load_avg"] = list(os.getloadavg())
    except (AttributeError, OSError):
        pass
    meminfo = _kib_fields(_read("/proc/meminfo"), ("MemTotal", "MemAvailable"))
    memory = None
    if "MemTotal" in meminfo:
        available = meminfo.get("MemAvailable")
        memory = {"total_bytes": meminfo["MemTotal"], "available_bytes": available, "used_bytes": meminfo["MemTotal"] - available if available is not None else None}
    status = _kib_fields(_read("/proc/self/status"), ("VmRSS", "VmHWM"))
    return {
        "hostname": socket.gethostname(),
        "pid": pid,
        "cpu": cpu,
        "memory": memory,
        "cgroup_memory": _cgroup_memory(),
        "kernel_process": {"pid": pid, "rss_bytes": status.get("VmRSS"), "peak_rss_bytes": status.get("VmHWM")},
        "kernel_pids": _descendants(pid),
        "slurm": {k: os.environ[k] for k in SLURM_VARS if k in os.environ},
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "nvidia_smi": _nvidia_smi(
            (
                ("gpus", ["--query-gpu=" + GPU_QUERY, "--format=csv,noheader,nounits"]),
                ("apps", ["--query-compute-apps=" + APPS_QUERY, "--format=csv,noheader,nounits"]),
            ),
            gpu_timeout,
        ),
    }


# ----------------------------------------------------------------------------- environment

def _distributions():
    """`name==version` of every installed distribution, as pip freeze names them, without pip."""
    try:
        from importlib import metadata
    except ImportError:
        return None
    seen, lines = set(), []
    for dist in metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:
            name = None
        if not name:
            continue
        key = name.lower().replace("_", "-").replace(".", "-")
        if key in seen:
            continue  # shadowed by an earlier entry on sys.path, as pip sees it too
        seen.add(key)
        lines.append("{}=={}".format(name, dist.version))
    return sorted(lines, key=str.lower)


def _key_versions():
    try:
        from importlib import metadata
    except ImportError:
        return {}
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except Exception:
            pass
    return versions


def environment(gpu_timeout=5):
    import platform
    conda_meta = os.path.join(sys.prefix, "conda-meta")
    conda = None
    if os.path.isdir(conda_meta):
        conda = sorted(f[:-5] for f in os.listdir(conda_meta) if f.endswith(".json"))
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "conda_env": os.environ.get("CONDA_DEFAULT_ENV"),
        "packages": _key_versions(),
        "freeze": _distributions(),
        "conda_packages": conda,
        "nvidia_smi": _nvidia_smi(
            (("gpus", ["--query-gpu=" + GPU_QUERY, "--format=csv,noheader,nounits"]),),
            gpu_timeout,
        ),
    }
