/**
 * Process figures from /proc (Linux): peak and current RSS (VmHWM, VmRSS) and CPU time, for this
 * process or another one such as the Temporal dev server.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ), 100 on every Linux Node supports. */
const TICKS_PER_SECOND = 100;

/** A `Vm…` line of /proc/<pid>/status, in bytes. */
export function vm(field: 'VmHWM' | 'VmRSS', pid: number | 'self' = 'self'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Resets this process's VmHWM to its current RSS, so the next reading is the peak of what follows. */
export function resetPeakRss(): void {
  writeFileSync('/proc/self/clear_refs', '5');
}

/** User + system CPU time another process has used so far, in ms (fields 14 and 15 of its stat). */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** User + system CPU time of this process so far, in ms. */
export function selfCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Decimal megabytes, the unit of the targets. */
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;
export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
