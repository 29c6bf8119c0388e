import { existsSync } from 'node:fs';
import { packageProject } from '../../vitest.shared.js';

// WebGPU on the CPU for training-webgpu.test.ts (../shared/webgpu-on-cpu/README.md): Debian's chromium
// ships SwiftShader and its own Vulkan loader. The loader is found through LD_LIBRARY_PATH, which the
// dynamic linker reads when a process starts, so it is set here, before the test processes fork.
const CHROMIUM = '/usr/lib/chromium';
if (!process.env.VK_ICD_FILENAMES && existsSync(`${CHROMIUM}/vk_swiftshader_icd.json`)) {
  process.env.VK_ICD_FILENAMES = `${CHROMIUM}/vk_swiftshader_icd.json`;
  process.env.LD_LIBRARY_PATH = [CHROMIUM, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
}

export default packageProject('training');
