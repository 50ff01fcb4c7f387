import { z } from 'zod';

/**
 * Every setting in one table: its env name, its flag, its schema (which holds the default)
 * and the line `--help` prints. Flags beat env, env beats defaults.
 * Secrets (the external server's token) have no flag on purpose: argv is world-readable.
 */
export interface SettingSpec {
  env: string;
  flag?: string;
  schema: z.ZodType;
  help: string;
}

const seconds = (fallback: number) => z.coerce.number().positive().default(fallback);

export const SETTINGS = {
  runMode: {
    env: 'JLAB_MCP_RUN_MODE',
    flag: '--run-mode',
    schema: z.enum(['local', 'external', 'slurm']).optional(),
    help: 'local (start our own Jupyter server) | external (use JLAB_MCP_JUPYTER_URL) | slurm (one batch job hosts Jupyter on a compute node). Default: external when JLAB_MCP_JUPYTER_URL is set, else JLAB_MCP_DEFAULT_RUN_MODE, else slurm when sbatch is on PATH, else local.',
  },
  defaultRunMode: {
    env: 'JLAB_MCP_DEFAULT_RUN_MODE',
    schema: z.enum(['local', 'slurm']).optional(),
    help: 'The mode a launcher picks when neither JLAB_MCP_RUN_MODE nor JLAB_MCP_JUPYTER_URL is set, in place of the sbatch-on-PATH guess; scripts/run.sh sets local (env only).',
  },
  notebookDir: {
    env: 'JLAB_MCP_NOTEBOOK_DIR',
    flag: '--notebook-dir',
    schema: z.string().min(1).default('./notebooks'),
    help: 'Directory where notebooks are written; every notebook path the agent passes must resolve inside it.',
  },
  jupyterCommand: {
    env: 'JLAB_MCP_JUPYTER_CMD',
    flag: '--jupyter-cmd',
    schema: z.string().min(1).optional(),
    help: 'Command that starts a Jupyter server (local mode), e.g. "jupyter server" or a venv path. Default: jupyter-server, else "jupyter server", from PATH.',
  },
  setup: {
    env: 'JLAB_MCP_SETUP',
    flag: '--setup',
    schema: z.enum(['auto', 'venv', 'off']).default('auto'),
    help: 'What the local backend does when no Jupyter server with a Python kernel is found (in the background; the first start call waits with progress): auto (as root with apt-get: apt-get install the Debian packages; else a private venv in $XDG_DATA_HOME/jlab-mcp/venv with pip install jupyter_server ipykernel) | venv (never apt) | off (install nothing; say what to run).',
  },
  jupyterUrl: {
    env: 'JLAB_MCP_JUPYTER_URL',
    flag: '--jupyter-url',
    schema: z.url().optional(),
    help: 'Base URL of a running Jupyter server (external mode), e.g. http://127.0.0.1:8888/ or a JupyterHub user server URL.',
  },
  jupyterToken: {
    env: 'JLAB_MCP_JUPYTER_TOKEN',
    schema: z.string().optional(),
    help: 'Token of the external server (env only: never on the command line).',
  },
  jupyterTokenFile: {
    env: 'JLAB_MCP_JUPYTER_TOKEN_FILE',
    flag: '--jupyter-token-file',
    schema: z.string().optional(),
    help: 'File holding the external server token (first line); an alternative to JLAB_MCP_JUPYTER_TOKEN.',
  },
  serverStartTimeout: {
    env: 'JLAB_MCP_SERVER_START_TIMEOUT',
    flag: '--server-start-timeout',
    schema: seconds(60),
    help: 'Seconds to wait for the Jupyter server to answer /api/status.',
  },
  requestTimeout: {
    env: 'JLAB_MCP_REQUEST_TIMEOUT',
    flag: '--request-timeout',
    schema: seconds(30),
    help: 'Seconds one request to the Jupyter server (REST call, websocket handshake) may take before it fails with TIMEOUT; a server that accepts connections and never answers cannot hang a call.',
  },
  kernelStartTimeout: {
    env: 'JLAB_MCP_KERNEL_START_TIMEOUT',
    flag: '--kernel-start-timeout',
    schema: seconds(60),
    help: "Seconds a new kernel may take to start: the Jupyter server's answer to the start request (it answers once the kernel process runs, slow on a loaded node) and the kernel's first reply.",
  },
  defaultKernel: {
    env: 'JLAB_MCP_KERNEL',
    flag: '--kernel',
    schema: z.string().min(1).optional(),
    help: "Kernelspec used when start_new_session gets no kernel_name. Default: the server's default (usually python3).",
  },
  execTimeout: {
    env: 'JLAB_MCP_EXEC_TIMEOUT',
    flag: '--exec-timeout',
    schema: seconds(50),
    help: 'Seconds execute_code/edit_cell/run_cell wait before returning partial output; the cell keeps running (wait_for_cell gets the rest). Below the ~60 s many MCP clients allow a silent request.',
  },
  notebookOutputLimit: {
    env: 'JLAB_MCP_NOTEBOOK_OUTPUT_LIMIT',
    flag: '--notebook-output-limit',
    schema: z.coerce.number().int().min(10_000).default(2_000_000),
    help: 'Characters one stream output may keep in the notebook; beyond, its head and tail are kept with a note (bounds memory too).',
  },
  outputBudget: {
    env: 'JLAB_MCP_OUTPUT_BUDGET',
    flag: '--output-budget',
    schema: z.coerce.number().int().min(500).default(20_000),
    help: 'Characters of cell output text the agent gets per call (head and tail kept; the notebook keeps everything).',
  },
  imageMaxEdge: {
    env: 'JLAB_MCP_IMAGE_MAX_EDGE',
    flag: '--image-max-edge',
    schema: z.coerce.number().int().min(64).default(1024),
    help: 'Longest edge in pixels of an image the agent gets; larger figures are scaled down for the agent (the notebook keeps the original).',
  },
  imageMaxBytes: {
    env: 'JLAB_MCP_IMAGE_MAX_BYTES',
    flag: '--image-max-bytes',
    schema: z.coerce.number().int().min(10_000).default(262_144),
    help: 'Bytes per image the agent gets; larger ones are scaled down and re-encoded (PNG, then JPEG) until they fit.',
  },
  imageMaxPixels: {
    env: 'JLAB_MCP_IMAGE_MAX_PIXELS',
    flag: '--image-max-pixels',
    schema: z.coerce.number().int().min(1_000_000).default(50_000_000),
    help: 'Pixels (width × height, read from the header) above which a PNG/JPEG is not decoded for the agent; the reply says why, the notebook keeps it.',
  },
  maxImages: {
    env: 'JLAB_MCP_MAX_IMAGES',
    flag: '--max-images',
    schema: z.coerce.number().int().min(0).default(4),
    help: 'Images the agent gets per call; the rest are counted and stay in the notebook.',
  },
  slurmPartition: {
    env: 'JLAB_MCP_SLURM_PARTITION',
    flag: '--slurm-partition',
    schema: z.string().min(1).optional(),
    help: "SLURM partition of the Jupyter job (sbatch --partition). Default: the cluster's default partition.",
  },
  slurmGres: {
    env: 'JLAB_MCP_SLURM_GRES',
    flag: '--slurm-gres',
    schema: z.string().optional(),
    help: 'Generic resources of the job, e.g. gpu:1 (sbatch --gres). Empty: no --gres line (a CPU-only job).',
  },
  slurmCpus: {
    env: 'JLAB_MCP_SLURM_CPUS',
    flag: '--slurm-cpus',
    schema: z.coerce.number().int().positive().default(4),
    help: 'CPUs of the job (sbatch --cpus-per-task).',
  },
  slurmMem: {
    env: 'JLAB_MCP_SLURM_MEM',
    flag: '--slurm-mem',
    schema: z.string().min(1).optional(),
    help: "Memory of the job, e.g. 32G (sbatch --mem). Default: the partition's default.",
  },
  slurmTime: {
    env: 'JLAB_MCP_SLURM_TIME',
    flag: '--slurm-time',
    schema: z.string().min(1).default('4:00:00'),
    help: 'Time limit of the job: minutes, H:MM:SS or D-HH:MM:SS (sbatch --time). Above the partition maximum the job would never start; that is reported as a failure.',
  },
  slurmModules: {
    env: 'JLAB_MCP_SLURM_MODULES',
    flag: '--slurm-modules',
    schema: z.string().optional(),
    help: 'Environment modules loaded before Jupyter starts, space-separated (each becomes a `module load` line).',
  },
  slurmAccount: {
    env: 'JLAB_MCP_SLURM_ACCOUNT',
    flag: '--slurm-account',
    schema: z.string().min(1).optional(),
    help: 'Account charged for the job (sbatch --account).',
  },
  slurmQos: {
    env: 'JLAB_MCP_SLURM_QOS',
    flag: '--slurm-qos',
    schema: z.string().min(1).optional(),
    help: 'Quality of service of the job (sbatch --qos).',
  },
  slurmConstraint: {
    env: 'JLAB_MCP_SLURM_CONSTRAINT',
    flag: '--slurm-constraint',
    schema: z.string().min(1).optional(),
    help: 'Node features the job needs (sbatch --constraint), e.g. a100.',
  },
  slurmExtraArgs: {
    env: 'JLAB_MCP_SLURM_EXTRA_ARGS',
    flag: '--slurm-extra-args',
    schema: z.string().optional(),
    help: 'More sbatch options, split like a shell command line (quotes honoured; $VAR, operators and comments refused), e.g. "--exclusive --reservation=ml". Passed to sbatch as arguments, never through a shell.',
  },
  slurmSetup: {
    env: 'JLAB_MCP_SLURM_SETUP',
    flag: '--slurm-setup',
    schema: z.string().optional(),
    help: 'Shell run in the job before Jupyter starts, verbatim, e.g. "source ~/venvs/ml/bin/activate" or "conda activate ml". Only from your configuration, never from the agent.',
  },
  slurmJupyterCommand: {
    env: 'JLAB_MCP_SLURM_JUPYTER_CMD',
    flag: '--slurm-jupyter-cmd',
    schema: z.string().min(1).default('jupyter-server'),
    help: 'Command that starts Jupyter inside the job (found on the compute node after modules and setup), e.g. "jupyter server" or a venv path.',
  },
  slurmStateDir: {
    env: 'JLAB_MCP_SLURM_STATE_DIR',
    flag: '--slurm-state-dir',
    schema: z.string().min(1).optional(),
    help: 'Directory on the filesystem shared with the compute nodes for per-job files (0700: token, connection file, heartbeat, job log). Default: ~/.jlab-mcp/slurm.',
  },
  queueTimeout: {
    env: 'JLAB_MCP_QUEUE_TIMEOUT',
    flag: '--queue-timeout',
    schema: seconds(600),
    help: 'Seconds the SLURM job may wait in the queue before the start is reported as failed.',
  },
  prestartDelay: {
    env: 'JLAB_MCP_PRESTART_DELAY',
    flag: '--prestart-delay',
    schema: z.coerce.number().min(0).default(5),
    help: 'SLURM: seconds a client must stay connected before the job is submitted in the background (its first tool call submits it at once), so a client that connects and leaves (a health check such as `claude mcp list`) submits none; 0 submits at launch. Local and external servers start at launch.',
  },
  readyTimeout: {
    env: 'JLAB_MCP_READY_TIMEOUT',
    flag: '--ready-timeout',
    schema: seconds(120),
    help: 'Seconds from the SLURM job running to its Jupyter server answering /api/status.',
  },
  slurmHeartbeatTimeout: {
    env: 'JLAB_MCP_SLURM_HEARTBEAT_TIMEOUT',
    flag: '--slurm-heartbeat-timeout',
    schema: z.coerce.number().int().min(6).optional(),
    help: 'Seconds without a heartbeat from jlab-mcp after which the job stops itself unless a kernel is busy (a killed jlab-mcp does not leave it burning its allocation; a running cell is never killed for it). Default: JLAB_MCP_IDLE_TIMEOUT.',
  },
  walltimeWarning: {
    env: 'JLAB_MCP_WALLTIME_WARNING',
    flag: '--walltime-warning',
    schema: z.coerce.number().int().min(60).default(900),
    help: "Seconds of SLURM walltime left from which each cell's footer says how much is left and a warning log notification is sent; Slurm signals the job this long before its end (at most half its time limit).",
  },
  onWalltime: {
    env: 'JLAB_MCP_ON_WALLTIME',
    flag: '--on-walltime',
    schema: z.enum(['notify', 'resubmit']).default('notify'),
    help: 'When the SLURM job is about to hit its walltime (after its notebooks are saved): notify (say so) or resubmit (submit a new job ahead of the end and move every session to it by replaying its notebook; same session ids).',
  },
  walltimeExtend: {
    env: 'JLAB_MCP_WALLTIME_EXTEND',
    flag: '--walltime-extend',
    schema: z.coerce.number().int().min(0).default(0),
    help: 'Minutes to add to an ending SLURM job with scontrol update TimeLimit=+N before notify/resubmit (only where the site lets users extend jobs; a refusal is reported). 0 (default): never try.',
  },
  slurmKeepOnQueueTimeout: {
    env: 'JLAB_MCP_SLURM_KEEP_ON_QUEUE_TIMEOUT',
    flag: '--slurm-keep-on-queue-timeout',
    schema: z.stringbool().default(false),
    help: 'true: a job still queued at JLAB_MCP_QUEUE_TIMEOUT is kept and the next call waits for it again; false (default): it is cancelled.',
  },
  slurmTls: {
    env: 'JLAB_MCP_SLURM_TLS',
    flag: '--slurm-tls',
    schema: z.stringbool().default(true),
    help: "true (default): the job's Jupyter serves HTTPS with a self-signed certificate made in the job (openssl on the node); jlab-mcp pins its SHA-256 fingerprint, so the token never crosses the cluster network in clear. Without openssl on the node the job serves plain HTTP and jlab-mcp warns. false: plain HTTP.",
  },
  jupyterLab: {
    env: 'JLAB_MCP_JUPYTERLAB',
    flag: '--jupyterlab',
    schema: z.stringbool().default(true),
    help: 'true (default): when JupyterLab (3 or later) is installed next to the jupyter-server command (the SLURM job, or local mode without JLAB_MCP_JUPYTER_CMD), start it instead, with the same flags, so a person who looks in (jlab-mcp connect) gets the full UI. false: always jupyter-server.',
  },
  slurmProfiles: {
    env: 'JLAB_MCP_SLURM_PROFILES',
    flag: '--slurm-profiles',
    schema: z.string().min(1).optional(),
    help: 'JSON file of named SLURM profiles (e.g. gpu, cpu) laid over the JLAB_MCP_SLURM_* settings; start_new_session(profile=...) picks one; one job per profile in use.',
  },
  stateDir: {
    env: 'JLAB_MCP_STATE_DIR',
    flag: '--state-dir',
    schema: z.string().min(1).optional(),
    help: 'Directory (0700) for the session registry that lets a restarted jlab-mcp adopt the servers, kernels and running cells of the previous one. Default: one per notebook directory under $XDG_STATE_HOME/jlab-mcp (else ~/.local/state/jlab-mcp).',
  },
  onExit: {
    env: 'JLAB_MCP_ON_EXIT',
    flag: '--on-exit',
    schema: z.enum(['shutdown', 'keep']).default('shutdown'),
    help: 'What a normal exit does: shutdown (stop kernels, the Jupyter server, the SLURM job) or keep (leave them running for the next jlab-mcp to adopt; they end by themselves after JLAB_MCP_IDLE_TIMEOUT without jlab-mcp and without a busy kernel). A killed jlab-mcp (SIGKILL) always behaves like keep.',
  },
  tasks: {
    env: 'JLAB_MCP_TASKS',
    flag: '--tasks',
    schema: z.stringbool().default(true),
    help: 'true (default): offer MCP tasks (the io.modelcontextprotocol/tasks extension, and 2025-11-25 tasks) so a client that opts in gets a task handle for a long cell instead of a blocking call. false: never.',
  },
  taskTtl: {
    env: 'JLAB_MCP_TASK_TTL',
    flag: '--task-ttl',
    schema: z.coerce.number().int().min(60).default(86_400),
    help: "Seconds a finished task and its result are kept from the task's creation (ttlMs; a task still working is kept until it ends). A 2025-11-25 client may ask for less.",
  },
  taskPollInterval: {
    env: 'JLAB_MCP_TASK_POLL_INTERVAL',
    flag: '--task-poll-interval',
    schema: seconds(2),
    help: 'Seconds between tasks/get polls suggested to clients (pollIntervalMs); with the 2026-07-28 extension, also how long an opted-in call may take before it is answered with a task instead of its result.',
  },
  idleTimeout: {
    env: 'JLAB_MCP_IDLE_TIMEOUT',
    flag: '--idle-timeout',
    schema: z.coerce.number().int().min(5).default(3600),
    help: 'Seconds a server left running without jlab-mcp (keep, or a killed jlab-mcp) lives on: Jupyter culls kernels idle and unconnected this long (never a busy one), then shuts down; a SLURM job also ends after this long without a heartbeat.',
  },
  interruptGrace: {
    env: 'JLAB_MCP_INTERRUPT_GRACE',
    flag: '--interrupt-grace',
    schema: seconds(10),
    help: 'Seconds a kernel may stay busy after an interrupt before interrupt_kernel reports it as ignoring the interrupt (and, with force or JLAB_MCP_INTERRUPT_ESCALATION=restart, restarts it).',
  },
  interruptEscalation: {
    env: 'JLAB_MCP_INTERRUPT_ESCALATION',
    flag: '--interrupt-escalation',
    schema: z.enum(['report', 'restart']).default('report'),
    help: 'What happens when a kernel ignores an interrupt for JLAB_MCP_INTERRUPT_GRACE: report (default: say so; interrupt_kernel(force=true) restarts) or restart (restart the kernel at once; its variables are lost).',
  },
  saveInterval: {
    env: 'JLAB_MCP_SAVE_INTERVAL',
    flag: '--save-interval',
    schema: seconds(3),
    help: "Seconds between saves of a running cell's output so far (a cell that ends within ~1 s is saved once, when it ends); a crash loses at most this much output. Resume saves its replay on the same rhythm.",
  },
  resumeCellTimeout: {
    env: 'JLAB_MCP_RESUME_CELL_TIMEOUT',
    flag: '--resume-cell-timeout',
    schema: seconds(900),
    help: 'Default cell_timeout of start_session_resume_notebook: seconds one replayed cell may run before it is interrupted (and the kernel restarted if it ignores the interrupt); the replay goes on.',
  },
  sweepMaxRuns: {
    env: 'JLAB_MCP_SWEEP_MAX_RUNS',
    flag: '--sweep-max-runs',
    schema: z.coerce.number().int().min(1).default(1000),
    help: 'The most runs one start_sweep may plan; a larger grid is refused with its count.',
  },
  stdinAnswer: {
    env: 'JLAB_MCP_STDIN_ANSWER',
    flag: '--stdin-answer',
    schema: z.string().optional(),
    help: 'What input() in a cell receives (e.g. "y"); debugger prompts get it too, at most 20 per cell. Default: input(), debuggers, help() and sys.stdin reads fail at once with StdinNotAvailable; nothing waits.',
  },
  tools: {
    env: 'JLAB_MCP_TOOLS',
    flag: '--tools',
    schema: z.string().min(1).default('all'),
    help: 'The tools the agent is offered (tools/list is sent on every turn): all | core (start_new_session, start_session_resume_notebook, start_session_continue_notebook, execute_code, edit_cell, add_markdown, shutdown_session, wait_for_cell, interrupt_kernel, read_notebook) | a comma list of tool names, in which core stands for those (core,list_kernels). Tools left out are not registered; an unknown name stops the start.',
  },
  logLevel: {
    env: 'JLAB_MCP_LOG_LEVEL',
    flag: '--log-level',
    schema: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
    help: 'Verbosity of the log on stderr.',
  },
  http: {
    env: 'JLAB_MCP_HTTP',
    flag: '--http',
    schema: z
      .string()
      .regex(/^(?:(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?\d{1,5}$/, 'expected [host:]port, e.g. 8765 or 127.0.0.1:8765')
      .optional(),
    help: 'Serve MCP over streamable HTTP at http://[host:]port/mcp instead of stdio (host default 127.0.0.1; port 0 picks a free one, printed on stderr). Every request needs the bearer token (JLAB_MCP_HTTP_TOKEN_FILE).',
  },
  httpToken: {
    env: 'JLAB_MCP_HTTP_TOKEN',
    schema: z.string().min(32).optional(),
    help: 'Bearer token HTTP clients must send, at least 32 characters (env only: never on the command line). Default: the token file.',
  },
  httpTokenFile: {
    env: 'JLAB_MCP_HTTP_TOKEN_FILE',
    flag: '--http-token-file',
    schema: z.string().min(1).optional(),
    help: 'File (0600) holding the bearer token of --http; a random one is written there when it does not exist, and kept for the next start. Default: http-token in the state directory.',
  },
  httpAllowedHosts: {
    env: 'JLAB_MCP_HTTP_ALLOWED_HOSTS',
    flag: '--http-allowed-hosts',
    schema: z.string().optional(),
    help: 'Host header names accepted besides localhost, 127.0.0.1, [::1] and the address --http binds (comma- or space-separated, no ports); any other Host is refused (DNS rebinding).',
  },
  httpAllowedOrigins: {
    env: 'JLAB_MCP_HTTP_ALLOWED_ORIGINS',
    flag: '--http-allowed-origins',
    schema: z.string().optional(),
    help: 'Origin hostnames accepted besides localhost, 127.0.0.1 and [::1] (comma- or space-separated); a request carrying any other Origin (a web page) is refused with 403, token or not. Requests without Origin (MCP clients) pass.',
  },
  httpMaxBody: {
    env: 'JLAB_MCP_HTTP_MAX_BODY',
    flag: '--http-max-body',
    schema: z.coerce.number().int().min(65_536).default(4_194_304),
    help: 'Bytes one HTTP request body may have; larger ones are answered 413 before they are parsed.',
  },
} satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SETTINGS;

export const ConfigSchema = z.object(
  Object.fromEntries(Object.entries(SETTINGS).map(([key, spec]) => [key, spec.schema])) as {
    [K in SettingKey]: (typeof SETTINGS)[K]['schema'];
  },
);

export type Config = z.infer<typeof ConfigSchema>;
