/**
 * What a partition's nodes have, against what the job asks for: the words that turn Slurm's bare
 * `PartitionConfig` into "asked for 32 CPUs; the nodes of partition debug have at most 16".
 * Pure; the sinfo call lives in commands.ts.
 */
import type { BatchSettings } from './batchScript.js';

/** Format of `sinfo --noheader --exact --format=…` that parseSinfoCapacity reads. */
export const SINFO_CAPACITY_FORMAT = '%P|%c|%m|%G|%D';

export interface NodeGroup {
  partition: string;
  /** sinfo marks the cluster's default partition with `*`. */
  isDefault: boolean;
  cpus: number;
  /** Memory per node in MB (sinfo %m). */
  memoryMb: number;
  /** Generic resources per node, e.g. `{ gpu: 4 }` (types summed under their name too). */
  gres: Record<string, number>;
  nodes: number;
}

/** Rows of sinfo with SINFO_CAPACITY_FORMAT; lines that do not fit are skipped. */
export function parseSinfoCapacity(stdout: string): NodeGroup[] {
  const groups: NodeGroup[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const f = raw.trim().split('|');
    if (f.length < 5) continue;
    const cpus = Number.parseInt(f[1]!, 10);
    const memoryMb = Number.parseInt(f[2]!, 10);
    if (!f[0] || !Number.isFinite(cpus)) continue;
    groups.push({
      partition: f[0].replace(/\*$/, ''),
      isDefault: f[0].endsWith('*'),
      cpus,
      memoryMb: Number.isFinite(memoryMb) ? memoryMb : 0,
      gres: parseGres(f[3]!),
      nodes: Number.parseInt(f[4]!, 10) || 0,
    });
  }
  return groups;
}

/**
 * `gpu:a100:4(S:0-1),mps:200` → `{ gpu: 4, 'gpu:a100': 4, mps: 200 }`; `(null)` → {}.
 * Also reads a request (`gpu:1`, `gpu:a100:2`, a bare `gpu` meaning 1).
 */
export function parseGres(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const t = text.trim();
  if (t === '' || t === '(null)') return out;
  // Commas inside a socket list `(S:0,2)` are not separators.
  for (const item of t.replace(/\([^)]*\)/g, '').split(',')) {
    const parts = item.trim().split(':').filter(Boolean);
    if (parts.length === 0) continue;
    const last = parts[parts.length - 1]!;
    const count = /^\d+$/.test(last) ? Number(last) : 1;
    const names = /^\d+$/.test(last) ? parts.slice(0, -1) : parts;
    if (names.length === 0) continue;
    out[names[0]!] = (out[names[0]!] ?? 0) + count;
    if (names.length > 1) out[names.join(':')] = (out[names.join(':')] ?? 0) + count;
  }
  return out;
}

/** sbatch's words (22.05) for a request larger than any node of the partition. */
export function refusedForSize(words: string): boolean {
  return /Requested node configuration is not available|Memory specification can not be satisfied|Invalid generic resource \(gres\) specification/.test(words);
}

/** sbatch --mem (`16000`, `32G`, `512M`) in MB; undefined when it cannot be read. */
export function memToMb(mem: string): number | undefined {
  const m = /^(\d+)([KMGTkmgt]?)$/.exec(mem.trim());
  if (!m) return undefined;
  const scale: Record<string, number> = { K: 1 / 1024, M: 1, G: 1024, T: 1024 * 1024, '': 1 };
  return Number(m[1]) * scale[m[2]!.toUpperCase()]!;
}

function memWords(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(mb % 1024 === 0 ? 0 : 1)}G` : `${mb}M`;
}

/**
 * One sentence: what was asked, what the partition's largest nodes have, and which part does
 * not fit. `groups` is sinfo's answer for the partition (or for all, when none was named).
 */
export function capacityWords(batch: Pick<BatchSettings, 'partition' | 'cpus' | 'mem' | 'gres'>, groups: NodeGroup[]): string {
  const name = batch.partition ?? groups.find((g) => g.isDefault)?.partition;
  const mine = groups.filter((g) => g.partition === name);
  const cpus = batch.cpus ?? 1;
  const asked = [`${cpus} CPU${cpus === 1 ? '' : 's'}`];
  if (batch.mem) asked.push(`${batch.mem} memory`);
  if (batch.gres) asked.push(`--gres=${batch.gres}`);
  const what = `asked for ${asked.join(', ')}`;
  if (!name || mine.length === 0) return `${what}; sinfo lists no nodes for ${name ? `partition ${name}` : 'the default partition'}`;
  const maxCpus = Math.max(...mine.map((g) => g.cpus));
  const maxMem = Math.max(...mine.map((g) => g.memoryMb));
  const gresNames = Object.keys(parseGres(batch.gres ?? ''));
  const has = [`${maxCpus} CPUs`, `${memWords(maxMem)} memory`];
  const short: string[] = [];
  if (cpus > maxCpus) short.push('CPUs');
  const mem = batch.mem ? memToMb(batch.mem) : undefined;
  if (mem !== undefined && mem > maxMem) short.push('memory');
  for (const gres of gresNames) {
    const want = parseGres(batch.gres ?? '')[gres]!;
    const most = Math.max(...mine.map((g) => g.gres[gres] ?? 0));
    has.push(`${most} ${gres}`);
    if (want > most) short.push(gres);
  }
  const verdict = short.length > 0 ? ` — no node has enough ${short.join(', ')}` : ' (each fits; another limit of the partition does not)';
  return `${what}; the nodes of partition ${name} have at most ${has.join(', ')}${verdict}`;
}
