/**
 * The contract between the agent and its clients (the command line, JMX tools): the MXBean and its object name, typed
 * results, the system properties the agent announces itself by, the control channel's protocol constants. Depends on
 * nothing of Pauser; a name here is a name users and scripts meet.
 */
package dev.pauser.agent.contract;
