/**
 * Start-up wiring ({@link dev.pauser.agent.AgentWiring}): reads the options and connects the parts below in order,
 * once per JVM, in Pauser's own class loader. The only package that may depend on all the others.
 */
package dev.pauser.agent;
