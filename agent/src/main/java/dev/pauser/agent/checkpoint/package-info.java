/**
 * When and what to checkpoint: the trainer registry, the scheduler that coalesces requests and copies state at a safe
 * point, the background writer, restore at start-up, GPU memory given back while paused, and the status JMX reads.
 * Depends on {@code gate}, {@code state}, {@code store}, {@code log}, and {@code device} (the GPU fields' staging report
 * and their release on pause).
 */
package dev.pauser.agent.checkpoint;
