/**
 * One training job of several worker JVMs, coordinated through ZooKeeper (Apache Curator): each worker registers,
 * agrees with its peers on one step at which all pause or stop, and commits a job checkpoint of a step only when every
 * worker's checkpoint of it is durable (two phases); at start the workers resume from the newest step all committed.
 * Loaded only with the {@code cluster} option. The command line's {@code job} commands use {@link JobClient}.
 */
package dev.pauser.agent.cluster;
