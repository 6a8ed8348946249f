/**
 * The agent's options: parsed from the agent arguments, system properties and the environment, with their defaults
 * and one-line errors. Depends on {@code log} and {@code state} (for the restore-mismatch mode).
 */
package dev.pauser.agent.config;
