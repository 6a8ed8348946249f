/**
 * {@code @TrainState} fields to checkpoint entries and back: the schema checked at start-up, one codec per family of
 * types (primitives and arrays, NIO buffers, JDK random generators, ONNX Runtime tensors, GPU memory through JCuda,
 * JSON objects, object graphs of classes JSON can't take, the app's {@code StateCodec}s), capture into staging buffers
 * and restore. Capture runs where every step thread is held (the gate's control thread {@code pauser-gate}, or the
 * thread of a held checkpoint), never on a training thread; restore on the thread where the trainer is restored.
 * Depends on {@code store} (entry types), {@code device} (GPU memory) and {@code log}, and on {@code jdk.unsupported}'s
 * {@code sun.reflect.ReflectionFactory} to create objects of a stored graph without their constructors.
 */
package dev.pauser.agent.state;
