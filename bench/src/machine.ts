import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { BackendInfo } from '@tsformer/core-tensor';

/** Where a figure was measured: recorded beside every result. */
export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  backend: BackendInfo;
}

export function describeMachine(backend: BackendInfo): MachineInfo {
  const processors = cpus();
  return {
    cpu: processors[0]?.model.trim() ?? 'unknown',
    cores: processors.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    backend,
  };
}

/**
 * The process's peak resident memory so far, in MiB. On Linux, VmHWM of /proc/self/status: it belongs
 * to this process's address space, whereas getrusage's maxRSS survives exec and so reports a
 * parent's peak in a child (the decoder suite's parent builds models and runs the 512 MiB probe).
 */
export function peakRssMiB(): number {
  try {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib !== undefined) return Math.round(Number(kib) / 1024);
  } catch {}
  // maxRSS is in KiB on Linux and macOS.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
