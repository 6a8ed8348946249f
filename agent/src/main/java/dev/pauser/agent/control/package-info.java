/**
 * The control surfaces: the JMX MBean {@code dev.pauser:type=Pauser}, the command line's Unix-socket channel, signals,
 * the pause file, the graceful stop and the JFR pause events. Depends on {@code contract}, {@code checkpoint},
 * {@code gate} and {@code log}.
 */
package dev.pauser.agent.control;
