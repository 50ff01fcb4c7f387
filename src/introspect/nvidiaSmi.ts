/**
 * Parsers for `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` and
 * `--query-compute-apps=…` text (pure; tested on captured text in test/unit/fixtures/nvidia-smi).
 * The field lists are the ones assets/kernel/python_inspect.py asks for.
 */

/** One GPU, from `--query-gpu=index,uuid,name,memory.used,memory.total,utilization.gpu,temperature.gpu`. */
export interface GpuRow {
  index: number;
  uuid: string;
  name: string;
  /** MiB; null when the driver reports [N/A] or [Not Supported]. */
  memory_used_mib: number | null;
  memory_total_mib: number | null;
  /** Percent of the last sample period the GPU was busy. */
  utilization_percent: number | null;
  temperature_c: number | null;
}

/** One process using a GPU, from `--query-compute-apps=gpu_uuid,pid,process_name,used_memory`. */
export interface GpuProcessRow {
  gpu_uuid: string;
  pid: number;
  process_name: string;
  used_memory_mib: number | null;
}

/** A number, or null for nvidia-smi's "[N/A]", "[Not Supported]", "N/A" and the like. */
function numberOrNull(field: string | undefined): number | null {
  if (field === undefined) return null;
  const value = Number(field.trim());
  return field.trim() !== '' && Number.isFinite(value) ? value : null;
}

/**
 * Splits one CSV line into `leading` fields, a middle field that may itself hold ", " (a GPU or
 * process name), and `trailing` fields. nvidia-smi does not quote fields.
 */
function splitAround(line: string, leading: number, trailing: number): string[] | undefined {
  const parts = line.split(',').map((part) => part.trim());
  if (parts.length < leading + trailing + 1) return undefined;
  const middle = parts.slice(leading, parts.length - trailing).join(', ');
  return [...parts.slice(0, leading), middle, ...parts.slice(parts.length - trailing)];
}

/** Data lines: blank lines, a header a caller asked for by mistake and "No devices" messages skipped. */
function dataLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && line.includes(',') && !/^index\b|^gpu_uuid\b/i.test(line));
}

export function parseGpuCsv(text: string): GpuRow[] {
  const rows: GpuRow[] = [];
  for (const line of dataLines(text)) {
    const fields = splitAround(line, 2, 4);
    const index = numberOrNull(fields?.[0]);
    if (!fields || index === null) continue;
    rows.push({
      index,
      uuid: fields[1]!,
      name: fields[2]!,
      memory_used_mib: numberOrNull(fields[3]),
      memory_total_mib: numberOrNull(fields[4]),
      utilization_percent: numberOrNull(fields[5]),
      temperature_c: numberOrNull(fields[6]),
    });
  }
  return rows;
}

export function parseGpuProcessCsv(text: string): GpuProcessRow[] {
  const rows: GpuProcessRow[] = [];
  for (const line of dataLines(text)) {
    const fields = splitAround(line, 2, 1);
    const pid = numberOrNull(fields?.[1]);
    if (!fields || pid === null) continue;
    rows.push({ gpu_uuid: fields[0]!, pid, process_name: fields[2]!, used_memory_mib: numberOrNull(fields[3]) });
  }
  return rows;
}
