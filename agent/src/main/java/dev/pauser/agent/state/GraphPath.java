package dev.pauser.agent.state;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Where an object sits in a graph, from the field's value: {@code structure.flat.weights}, {@code layers[2].bias}.
 * Kept as a link to the parent's path and one step, and spelled out only when a message or a tensor key needs it, so a
 * deep graph (a linked list of a million nodes) costs one small object per node, not a string as long as its depth.
 */
final class GraphPath {
    static final GraphPath ROOT = new GraphPath(null, "");

    private final GraphPath parent;
    private final String step;

    private GraphPath(GraphPath parent, String step) {
        this.parent = parent;
        this.step = step;
    }

    GraphPath field(String name) {
        return new GraphPath(this, "." + name);
    }

    GraphPath index(Object index) {
        return new GraphPath(this, "[" + index + "]");
    }

    @Override
    public String toString() {
        Deque<String> steps = new ArrayDeque<>();
        for (GraphPath p = this; p != null; p = p.parent) {
            steps.push(p.step);
        }
        StringBuilder b = new StringBuilder();
        steps.forEach(b::append);
        return b.length() > 0 && b.charAt(0) == '.' ? b.substring(1) : b.toString();
    }
}
