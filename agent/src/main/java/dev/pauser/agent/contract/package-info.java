/**
 * The contract between the Pauser agent and its clients (the {@code pauser} command line, JMX tools): the MXBean and
 * its object name, notification types, typed results, the system properties the agent announces itself by, and the
 * control channel's protocol constants. It depends on nothing else of Pauser, so either side can change inside without
 * the other; a name here is a name users and scripts meet.
 */
package dev.pauser.agent.contract;
