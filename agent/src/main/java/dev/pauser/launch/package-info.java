/**
 * The JVM's entry points into {@code pauser.jar}: {@code premain}/{@code agentmain} and the command line's
 * {@code main}, and {@link dev.pauser.launch.PauserClassLoader}, which loads everything else from the jar's
 * {@code inst/} folder. On the bootstrap class path; depends on nothing of Pauser at compile time (it names the classes
 * it starts).
 */
package dev.pauser.launch;
