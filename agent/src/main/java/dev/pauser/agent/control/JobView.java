package dev.pauser.agent.control;

/**
 * The job of several JVMs this one is a worker of, as JMX shows it; {@link #ALONE} when it trains alone. Read on JMX
 * connection threads: implementations answer from what they already hold, without waiting for ZooKeeper.
 */
public interface JobView {
    JobView ALONE = new JobView() {
        @Override
        public String job() {
            return "";
        }

        @Override
        public int rank() {
            return -1;
        }

        @Override
        public String[] workers() {
            return new String[0];
        }

        @Override
        public long committedStep() {
            return -1;
        }
    };

    /** The ZooKeeper connect string and job path, as the cluster option gave them. */
    String job();

    int rank();

    /** One line per registered worker: {@code rank 0 host h pid 123 PAUSED step 42}. */
    String[] workers();

    /** The newest step the whole job committed a checkpoint of; -1 for none. */
    long committedStep();
}
