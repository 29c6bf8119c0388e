import { existsSync } from 'node:fs';
import { mergeConfig } from 'vitest/config';
import { packageProject } from '../../vitest.shared.js';

// WebGPU on the CPU for training-webgpu.test.ts (../shared/webgpu-on-cpu/README.md): Debian's chromium
// ships SwiftShader and its own Vulkan loader, found through LD_LIBRARY_PATH, which the dynamic linker
// reads when a process starts: so it is given to this project's test processes only, as they start.
const CHROMIUM = '/usr/lib/chromium';
const swiftShader =
  !process.env.VK_ICD_FILENAMES && existsSync(`${CHROMIUM}/vk_swiftshader_icd.json`)
    ? {
        VK_ICD_FILENAMES: `${CHROMIUM}/vk_swiftshader_icd.json`,
        LD_LIBRARY_PATH: [CHROMIUM, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
        XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp',
      }
    : {};

export default mergeConfig(packageProject('training'), { test: { env: swiftShader } });
