/**
 * Turning {@code @TrainState} fields into checkpoint entries and back.
 *
 * <ul>
 *   <li>{@link dev.pauser.agent.state.StateSchema#of(Class)}: finds and checks the fields once at start-up; every
 *       problem (unsupported type, unrestorable final field) in one {@link dev.pauser.agent.state.StateException}.</li>
 *   <li>{@link dev.pauser.agent.state.StateCapture#capture(Object)}: the entries of one checkpoint, on the training
 *       thread; tensors are bulk-copied into reusable direct staging buffers.</li>
 *   <li>{@link dev.pauser.agent.state.StateRestore#restore}: checks every entry against the code first, then writes;
 *       mismatches fail in one {@link dev.pauser.agent.state.StateMismatchException} or, in WARN mode, are returned and
 *       skipped.</li>
 *   <li>{@link dev.pauser.agent.state.ModuleOpener#open}: opens the JDK packages holding generator state to the agent.
 *       </li>
 * </ul>
 *
 * <p>One codec class per family of types: {@code ScalarCodec} (primitives, boxed, String, enums: JSON),
 * {@code ArrayCodec} (primitive arrays of any rank: tensors), {@code BufferCodec} (NIO buffers: tensors),
 * {@code RandomCodec} (JDK random generators: JSON of their fields), {@code OnnxTensorCodec} (ONNX Runtime tensors, by
 * reflection), {@code JacksonCodec} (collections, maps, plain objects: JSON), {@code SpiCodec} (the app's
 * {@code dev.pauser.spi.StateCodec}s). This code runs in the bootstrap class loader: app libraries (ONNX Runtime, the
 * app's pauser-runtime) are reached only by reflection on the objects' own classes.
 */
package dev.pauser.agent.state;
