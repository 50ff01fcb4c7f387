import type { JupyterSetup } from '../../setup/jupyterSetup.js';

/** The local backend's facts for the status resource. */
export type LocalDescription = {
  kind: 'local';
  /** What a waiting start call's progress says: the set-up's step, while one runs. */
  summary?: string;
  setup?: ReturnType<JupyterSetup['describe']>;
  url?: string;
  pid?: number;
  /** The server was left by an earlier jlab-mcp and taken over. */
  adopted: boolean;
  runtimeDir?: string;
  /** The server's log file. */
  log?: string;
};
