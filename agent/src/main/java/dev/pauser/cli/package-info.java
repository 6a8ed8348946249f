/**
 * The {@code pauser} command line (picocli), run as {@code java -jar pauser.jar}: finds agent JVMs, talks to them over
 * the control socket or attaches, and reads checkpoints on disk. Depends on {@code contract}, {@code store},
 * {@code config} (options for an attach) and {@code control} (where control sockets live); never on a running agent's
 * classes.
 */
package dev.pauser.cli;
