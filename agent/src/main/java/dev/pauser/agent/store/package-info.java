/**
 * Checkpoints on disk: the format ({@code ckpt-<step>/} with {@code state.safetensors}, {@code values.json},
 * {@code manifest.json}, {@code manifest.crc}; a {@code latest} pointer; a {@code .lock}), the commit protocol,
 * retention, resume selection and reading/verifying. Independent of how state is captured: depends on nothing of Pauser.
 */
package dev.pauser.agent.store;
