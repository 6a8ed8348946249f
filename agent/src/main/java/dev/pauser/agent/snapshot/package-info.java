/**
 * Checkpoint storage: the on-disk format and its commit protocol, independent of how state is captured.
 *
 * <p>A root directory (e.g. {@code ./pauser}) holds {@code ckpt-<step>/} directories (step zero-padded to 12 digits),
 * a {@code latest} pointer file naming the newest committed one, and a {@code .lock} file. Each checkpoint holds
 * {@code state.safetensors} (every {@link dev.pauser.agent.snapshot.TensorEntry}, standard safetensors layout),
 * {@code values.json} (one JSON object, key to value, for every {@link dev.pauser.agent.snapshot.JsonEntry}),
 * {@code manifest.json} (origin and, per field, where its bytes are and their CRC32C) and {@code manifest.crc}
 * (the CRC32C of {@code manifest.json}).
 *
 * <p>Entry points: {@link dev.pauser.agent.snapshot.CheckpointStore} (the locked root: write, retention, resume
 * selection, set-aside, deletion), {@link dev.pauser.agent.snapshot.CheckpointReader} (load, verify, inspect). Inside,
 * one class per job: {@link dev.pauser.agent.snapshot.CheckpointLayout} (a checkpoint's files, laid out in memory),
 * {@link dev.pauser.agent.snapshot.CheckpointCommit} (the commit protocol), {@link dev.pauser.agent.snapshot.Retention},
 * {@link dev.pauser.agent.snapshot.Resume} (newest checkpoint that verifies), {@link dev.pauser.agent.snapshot.Crc32c}.
 */
package dev.pauser.agent.snapshot;
