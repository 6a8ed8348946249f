/**
 * GPU memory behind one interface ({@link dev.pauser.agent.device.DeviceMemory}): the CUDA driver through the app's own
 * JCuda, by reflection (pauser.jar never bundles or links it: {@link dev.pauser.agent.device.JCudaDevice} and the
 * {@code JCuda*} classes and {@code VirtualMemoryMappings} it puts together, found by
 * {@link dev.pauser.agent.device.DeviceMemories#forLoader}), or host memory in the tests; where a GPU field's bytes are
 * staged while training is held ({@link dev.pauser.agent.device.DeviceStaging}), and how its memory is given back
 * during a pause ({@link dev.pauser.agent.device.DeviceRelease}). Depends on {@code log}.
 */
package dev.pauser.agent.device;
