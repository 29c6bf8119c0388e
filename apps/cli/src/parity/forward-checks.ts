import * as tf from '@tensorflow/tfjs-core';
import { PretrainedCausalLM, type PretrainedModel, PretrainedSeq2SeqLM } from '@tsformer/models';
import type { ForwardCase } from '@tsformer/models/testing';
import { assertTensorsClose, CheckFailure, type CheckResult, runCheck } from './check-result.js';
import type { ReferenceFolder } from './reference-folder.js';

/** One forward pass's outputs by reference-tensor suffix (`logits`, `hidden.3`, `cross_attn.0`, ...), batch axis dropped. */
type ForwardOutputs = Record<string, tf.Tensor>;

const FORWARD_TENSOR = /^forward\.(\d+)\.(.+)$/;

/**
 * One check per tensor of reference.safetensors outside the processors: each `forward.{k}.*`
 * tensor against the same output of the model on forward case k, within the folder's tolerance.
 */
export async function checkForwardTensors(
  folder: ReferenceFolder,
  model: PretrainedModel,
): Promise<CheckResult[]> {
  const cases = folder.reference.forward ?? [];
  const byCase = new Map<number, string[]>();
  const results: CheckResult[] = [];
  for (const name of folder.tensors.names()) {
    const match = FORWARD_TENSOR.exec(name);
    const index = match ? Number(match[1]) : -1;
    if (!match || cases[index] === undefined) {
      results.push({
        name,
        status: 'fail',
        detail: 'no forward case in reference.json produces this tensor',
      });
      continue;
    }
    byCase.set(index, [...(byCase.get(index) ?? []), name]);
  }
  for (const [index, names] of byCase) {
    let outputs: ForwardOutputs;
    try {
      outputs = runForward(model, cases[index]!);
    } catch (error) {
      const detail = `forward case ${index} failed: ${(error as Error).message}`;
      results.push(...names.map((name): CheckResult => ({ name, status: 'fail', detail })));
      continue;
    }
    try {
      for (const name of names) {
        const suffix = FORWARD_TENSOR.exec(name)![2]!;
        results.push(await runCheck(name, () => compareWithReference(folder, name, outputs[suffix])));
      }
    } finally {
      tf.dispose(Object.values(outputs));
    }
  }
  return results;
}

async function compareWithReference(
  folder: ReferenceFolder,
  name: string,
  actual: tf.Tensor | undefined,
): Promise<string> {
  if (!actual) throw new CheckFailure('the model gives no such output');
  const expected = await folder.tensors.read(name);
  try {
    const { maxAbsDiff } = await assertTensorsClose(actual, expected, folder.atol, name);
    return `max |diff| ${maxAbsDiff.toExponential(2)} (atol ${folder.atol})`;
  } finally {
    expected.dispose();
  }
}

/** Runs forward case `forwardCase` with every output the reference can hold. */
function runForward(model: PretrainedModel, forwardCase: ForwardCase): ForwardOutputs {
  return tf.tidy(() => {
    const outputs: ForwardOutputs = {};
    const inputIds = ids(forwardCase.input_ids);
    let logits: tf.Tensor3D;
    if (model instanceof PretrainedSeq2SeqLM) {
      if (!forwardCase.decoder_input_ids)
        throw new CheckFailure('an encoder-decoder forward case needs decoder_input_ids');
      const out = model.forward({
        inputIds,
        decoderInputIds: ids(forwardCase.decoder_input_ids),
        outputAttentions: true,
      });
      logits = out.logits;
      outputs.encoder_last_hidden = unbatch(out.encoderLastHiddenState);
      addLayers(outputs, 'encoder_attn', out.encoderAttentions);
      addLayers(outputs, 'decoder_attn', out.decoderAttentions);
      addLayers(outputs, 'cross_attn', out.crossAttentions);
    } else if (model instanceof PretrainedCausalLM) {
      const out = model.forward(inputIds, {
        outputHiddenStates: true,
        outputAttentions: true,
      });
      logits = out.logits;
      addLayers(outputs, 'hidden', out.hiddenStates ?? []);
      addLayers(outputs, 'attn', out.attentions ?? []);
    } else {
      throw new CheckFailure('the model is neither a PretrainedCausalLM nor a PretrainedSeq2SeqLM');
    }
    const [, positions, vocab] = logits.shape;
    outputs.logits = unbatch(logits);
    outputs.last_logits = tf.reshape(tf.slice(logits, [0, positions - 1, 0], [1, 1, vocab]), [vocab]);
    return outputs;
  });
}

/** `prefix.{l}` for each layer's tensor, batch axis dropped. */
function addLayers(outputs: ForwardOutputs, prefix: string, perLayer: readonly tf.Tensor[]): void {
  for (const [layer, tensor] of perLayer.entries()) outputs[`${prefix}.${layer}`] = unbatch(tensor);
}

function ids(rows: number[][]): tf.Tensor2D {
  return tf.tensor2d(rows, [rows.length, rows[0]?.length ?? 0], 'int32');
}

/** Drops the leading batch axis of a single-row output. */
function unbatch(tensor: tf.Tensor): tf.Tensor {
  return tf.squeeze(tensor, [0]);
}
