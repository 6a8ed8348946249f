/**
 * The pause gate and the hooks instrumented code calls: per-thread step depth, the state machine (running, pausing,
 * paused, checkpointing, stopping), the trainers the hooks meet
 * ({@code TrainerEvents}) and the listener interfaces the agent plugs into. On the bootstrap class path, so
 * every loader's trainer reaches the one copy. Depends on nothing but {@code java.base}.
 */
package dev.pauser.gate;
