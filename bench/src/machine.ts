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

/** The process's peak resident memory so far, in MiB. */
export function peakRssMiB(): number {
  // maxRSS is in KiB on Linux and macOS.
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
