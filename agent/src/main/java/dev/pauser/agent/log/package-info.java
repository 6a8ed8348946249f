/**
 * The agent's log lines ({@code pauser: ...}) through JDK logging, or straight to standard error where the app has not
 * configured it. Depends on nothing of Pauser.
 */
package dev.pauser.agent.log;
