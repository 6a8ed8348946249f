package dev.pauser.gate;

/**
 * Serializes another thread with the calling one through the JVM: when {@link #serialize} returns, every store the
 * other thread made before a point in its execution is visible to the caller, and every load the other thread makes
 * after that point sees what the caller stored before the call. The point is a safepoint poll of the other thread (or
 * a moment it spent blocked or in native code, where it is not running Java code at all).
 *
 * <p>Mechanism: {@link Thread#getStackTrace()} of another live thread. On HotSpot JDK 17 and 18 it is a
 * {@code ThreadDump} safepoint operation (every Java thread is brought to a safepoint); from JDK 19 on it is a
 * thread-local handshake with that one thread ({@code GetStackTraceClosure}). Both were checked on this project's JDKs
 * (17.0.15 and Temurin 25) with {@code -Xlog:safepoint,handshake}. Either way the target stops at a safepoint poll (or
 * is caught in a safe state), and the VM's own synchronization with it (its thread-state transitions and the
 * handshake or safepoint protocol are made of locked instructions and acquire/release pairs) orders its memory
 * accesses against the caller's. Compiled code keeps program order for the stores before a poll (the poll's debug
 * state needs them) and does not hoist a volatile read above one.
 *
 * <p>{@link #AVAILABLE} is false on any other JVM (OpenJ9 and the like): the gate then fences every outermost entry,
 * as it did before this class.
 */
final class Handshake {
    /** Whether {@link #serialize} has the meaning above on this JVM. */
    static final boolean AVAILABLE = hotSpot(System.getProperty("java.vm.name", ""), Runtime.version().feature());

    private Handshake() {
    }

    static boolean hotSpot(String vmName, int feature) {
        return feature >= 17 && (vmName.contains("HotSpot") || vmName.startsWith("OpenJDK"));
    }

    /** Serializes {@code other} with the calling thread (see the class comment). A thread that has ended needs nothing. */
    static void serialize(Thread other) {
        if (other != Thread.currentThread() && other.isAlive()) {
            other.getStackTrace();
        }
    }
}
