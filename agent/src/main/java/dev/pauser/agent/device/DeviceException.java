package dev.pauser.agent.device;

/** A device operation failed; the message is one line naming the operation, the address or size, and the cause. */
public final class DeviceException extends Exception {
    private static final long serialVersionUID = 1L;

    public DeviceException(String message) {
        super(message);
    }

    public DeviceException(String message, Throwable cause) {
        super(message, cause);
    }
}
