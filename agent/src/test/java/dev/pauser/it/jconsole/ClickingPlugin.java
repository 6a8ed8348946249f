package dev.pauser.it.jconsole;

import com.sun.tools.jconsole.JConsolePlugin;
import java.awt.Component;
import java.awt.Container;
import java.awt.Window;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import javax.swing.AbstractButton;
import javax.swing.JButton;
import javax.swing.JLabel;
import javax.swing.JOptionPane;
import javax.swing.JPanel;
import javax.swing.JTabbedPane;
import javax.swing.JTable;
import javax.swing.JTree;
import javax.swing.SwingUtilities;
import javax.swing.SwingWorker;
import javax.swing.text.JTextComponent;
import javax.swing.tree.TreeNode;
import javax.swing.tree.TreePath;

/**
 * A JConsole plugin ({@code jconsole -pluginpath <jar>}) that drives JConsole's own GUI as a user would: it accepts
 * the insecure local connection, opens the MBeans tab, selects dev.pauser → Pauser → Operations in the MBean tree and
 * clicks the {@code pause} button, then (when the test says so) the {@code resume} button, closing each result dialog.
 * It uses no connection of its own: every call to the MBean is the one JConsole makes for the button.
 *
 * <p>Talks to the test through files in the directory named by the system property {@code pauser.jconsole.dir}:
 * writes {@code pause.clicked} and {@code resume.clicked} (holding the result dialog's text), waits for
 * {@code resume.go}, logs each step to {@code script.log} and any failure to {@code error}. Runs on its own daemon
 * thread ("pauser-gui-script"); every look at a Swing component happens on the event dispatch thread.
 */
public final class ClickingPlugin extends JConsolePlugin {
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    private static final long STEP_TIMEOUT_MILLIS = 60_000;

    public ClickingPlugin() {
        // JConsole creates the plugin before it connects, so the script is up when the insecure-connection dialog shows
        if (STARTED.compareAndSet(false, true)) {
            Thread t = new Thread(() -> run(Paths.get(System.getProperty("pauser.jconsole.dir"))), "pauser-gui-script");
            t.setDaemon(true);
            t.start();
        }
    }

    @Override
    public Map<String, JPanel> getTabs() {
        return Map.of();
    }

    @Override
    public SwingWorker<?, ?> newSwingWorker() {
        return null;
    }

    private static void run(Path dir) {
        try {
            Script s = new Script(dir);
            s.openPauserOperations();
            s.click("pause");
            s.awaitFile("resume.go");
            s.click("resume");
            s.write("PauseAtStep", "0");
            s.log("done");
        } catch (Throwable e) {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            try {
                Files.writeString(dir.resolve("error"), trace.toString());
            } catch (IOException ignored) {
                e.printStackTrace();
            }
        }
    }

    /** The steps, each waiting (polling the GUI) until what it needs is on screen. */
    private static final class Script {
        private final Path dir;

        Script(Path dir) {
            this.dir = dir;
        }

        void log(String line) throws IOException {
            Files.writeString(dir.resolve("script.log"), line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }

        /** Connects (accepting the insecure local connection if asked), opens MBeans, selects Pauser's Operations. */
        void openPauserOperations() throws Exception {
            // The tabs exist before the connection is made; the tree fills once it is. Until then, accept the insecure
            // local connection when JConsole asks (it tries SSL first), and keep the MBeans tab selected.
            JTree tree = until("the dev.pauser/Pauser MBean in the MBeans tab's tree", () -> {
                AbstractButton insecure = find(AbstractButton.class, b -> "Insecure connection".equals(b.getText()));
                if (insecure != null) {
                    SwingUtilities.invokeLater(insecure::doClick);
                    return null;
                }
                JTabbedPane tabs = find(JTabbedPane.class, t -> t.indexOfTab("MBeans") >= 0);
                if (tabs != null && tabs.getSelectedIndex() != tabs.indexOfTab("MBeans")) {
                    tabs.setSelectedIndex(tabs.indexOfTab("MBeans"));
                }
                return find(JTree.class, t -> node(t, "dev.pauser", "Pauser") != null);
            });
            log("connected, MBean tree shown");
            // selecting the MBean loads its Attributes/Operations/Notifications nodes, as a click on it does
            onEdt(() -> {
                TreePath mbean = node(tree, "dev.pauser", "Pauser");
                tree.expandPath(mbean);
                tree.setSelectionPath(mbean);
                return null;
            });
            TreePath operations = until("dev.pauser/Pauser/Operations in the tree",
                    () -> node(tree, "dev.pauser", "Pauser", "Operations"));
            onEdt(() -> {
                tree.expandPath(operations.getParentPath());
                tree.setSelectionPath(operations);
                tree.scrollPathToVisible(operations);
                return null;
            });
            log("operations shown");
        }

        /** Clicks the operation's button, waits for JConsole's result dialog, closes it and reports its text. */
        void click(String operation) throws Exception {
            // any dialog left (JConsole's "Connecting to ..." pane) goes first, so the next one is the result
            until("no dialog on screen", () -> find(JOptionPane.class, p -> true) == null ? Boolean.TRUE : null);
            JButton button = until("the " + operation + " button",
                    () -> find(JButton.class, b -> operation.equals(b.getText()) && b.isEnabled()));
            SwingUtilities.invokeLater(button::doClick); // later: the result dialog is modal and would block this call
            log("clicked " + operation);
            JOptionPane result = until("the result dialog of " + operation, () -> find(JOptionPane.class, p -> true));
            String text = onEdt(() -> text(result.getMessage()));
            JButton ok = until("the OK button of the result dialog",
                    () -> find(JButton.class, b -> "OK".equals(b.getText())));
            SwingUtilities.invokeLater(ok::doClick);
            until("the result dialog to close", () -> find(JOptionPane.class, p -> true) == null ? Boolean.TRUE : null);
            log(operation + " returned: " + text);
            Files.writeString(dir.resolve(operation + ".clicked"), text);
        }

        /**
         * Types {@code value} into the attribute's value cell on the Attributes page and commits it, as a user editing
         * the cell and pressing Enter does; reports the text of the dialog JConsole then shows (the error, for a
         * refused value; an accepted value shows none, so this waits for a refusal).
         */
        void write(String attribute, String value) throws Exception {
            JTree tree = until("the MBean tree", () -> find(JTree.class, t -> node(t, "dev.pauser", "Pauser") != null));
            onEdt(() -> {
                tree.setSelectionPath(node(tree, "dev.pauser", "Pauser", "Attributes"));
                return null;
            });
            JTable table = until("the " + attribute + " row", () -> find(JTable.class, t -> row(t, attribute) >= 0));
            until("an editor in the " + attribute + " value cell", () -> {
                int row = row(table, attribute);
                if (!table.isCellEditable(row, 1) || !table.editCellAt(row, 1)) {
                    return null;
                }
                // JConsole's editor is a panel holding the text field
                JTextComponent field = inside(table.getEditorComponent(), JTextComponent.class);
                if (field == null) {
                    table.getCellEditor().cancelCellEditing();
                    return null;
                }
                field.setText(value);
                return Boolean.TRUE;
            });
            SwingUtilities.invokeLater(() -> table.getCellEditor().stopCellEditing());
            log("wrote " + attribute + "=" + value);
            JOptionPane answer = until("an answer to " + attribute + "=" + value,
                    () -> find(JOptionPane.class, p -> true));
            String text = onEdt(() -> text(answer.getMessage()));
            JButton ok = until("the OK button of the dialog", () -> find(JButton.class, b -> "OK".equals(b.getText())));
            SwingUtilities.invokeLater(ok::doClick);
            log(attribute + "=" + value + " answered: " + text);
            Files.writeString(dir.resolve(attribute + ".written"), text);
        }

        void awaitFile(String name) throws Exception {
            until(name, () -> Files.exists(dir.resolve(name)) ? Boolean.TRUE : null);
        }

        /** Polls {@code look} (on the EDT) until it returns non-null. */
        private <T> T until(String what, Callable<T> look) throws Exception {
            long deadline = System.currentTimeMillis() + STEP_TIMEOUT_MILLIS;
            while (true) {
                T found = onEdt(look);
                if (found != null) {
                    return found;
                }
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("JConsole did not show " + what + " within "
                            + STEP_TIMEOUT_MILLIS + " ms");
                }
                Thread.sleep(200);
            }
        }
    }

    private static <T> T onEdt(Callable<T> work) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        SwingUtilities.invokeAndWait(() -> {
            try {
                result.set(work.call());
            } catch (Exception e) {
                failure.set(e);
            }
        });
        if (failure.get() != null) {
            throw failure.get();
        }
        return result.get();
    }

    /** The first showing component of {@code type} that matches, in any window. Call on the EDT. */
    private static <T extends Component> T find(Class<T> type, Predicate<T> matches) {
        for (Window w : Window.getWindows()) {
            List<Component> pending = new ArrayList<>(List.of(w));
            while (!pending.isEmpty()) {
                Component c = pending.remove(pending.size() - 1);
                if (type.isInstance(c) && c.isShowing() && matches.test(type.cast(c))) {
                    return type.cast(c);
                }
                if (c instanceof Container) {
                    pending.addAll(List.of(((Container) c).getComponents()));
                }
            }
        }
        return null;
    }

    /** What a dialog's message shows: strings, and the text of labels and text fields in components. Call on the EDT. */
    private static String text(Object message) {
        if (message instanceof Object[]) {
            List<String> parts = new ArrayList<>();
            for (Object part : (Object[]) message) {
                parts.add(text(part));
            }
            return String.join(" ", parts);
        }
        if (message instanceof Component) {
            List<String> parts = new ArrayList<>();
            List<Component> pending = new ArrayList<>(List.of((Component) message));
            while (!pending.isEmpty()) {
                Component c = pending.remove(0);
                if (c instanceof JLabel && ((JLabel) c).getText() != null) {
                    parts.add(((JLabel) c).getText());
                } else if (c instanceof JTextComponent) {
                    parts.add(((JTextComponent) c).getText());
                }
                if (c instanceof Container) {
                    pending.addAll(List.of(((Container) c).getComponents()));
                }
            }
            return String.join(" ", parts);
        }
        return String.valueOf(message);
    }

    /** {@code root} or the first component of {@code type} inside it, or null. Call on the EDT. */
    private static <T extends Component> T inside(Component root, Class<T> type) {
        List<Component> pending = new ArrayList<>(List.of(root));
        while (!pending.isEmpty()) {
            Component c = pending.remove(0);
            if (type.isInstance(c)) {
                return type.cast(c);
            }
            if (c instanceof Container) {
                pending.addAll(List.of(((Container) c).getComponents()));
            }
        }
        return null;
    }

    /** The row whose first column (the attribute name on JConsole's Attributes page) is {@code name}, or -1. */
    private static int row(JTable table, String name) {
        for (int r = 0; r < table.getRowCount(); r++) {
            if (name.equals(String.valueOf(table.getValueAt(r, 0)))) {
                return r;
            }
        }
        return -1;
    }

    /** The path of the tree node reached by these labels from the root, or null. Call on the EDT. */
    private static TreePath node(JTree tree, String... labels) {
        TreeNode at = (TreeNode) tree.getModel().getRoot();
        if (at == null) {
            return null;
        }
        TreePath path = new TreePath(at);
        for (String label : labels) {
            TreeNode next = null;
            for (Enumeration<? extends TreeNode> e = at.children(); e.hasMoreElements();) {
                TreeNode child = e.nextElement();
                if (label.equals(child.toString())) {
                    next = child;
                }
            }
            if (next == null) {
                return null;
            }
            path = path.pathByAddingChild(next);
            at = next;
        }
        return path;
    }
}
