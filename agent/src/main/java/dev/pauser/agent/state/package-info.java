/**
 * {@code @TrainState} fields to checkpoint entries and back: the schema checked at start-up, one codec per family of
 * types (primitives and arrays, NIO buffers, JDK random generators, ONNX Runtime tensors, JSON objects, the app's
 * {@code StateCodec}s), capture into staging buffers and restore. Depends on {@code store} (entry types).
 */
package dev.pauser.agent.state;
