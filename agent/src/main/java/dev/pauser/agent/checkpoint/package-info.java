/**
 * When and what to checkpoint: the trainer registry, the scheduler that coalesces requests and copies state at a safe
 * point, the background writer, restore at start-up, and the status JMX reads. Depends on {@code gate}, {@code state},
 * {@code store} and {@code log}.
 */
package dev.pauser.agent.checkpoint;
