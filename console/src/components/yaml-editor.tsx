import { yaml, yamlLanguage } from '@codemirror/lang-yaml';
import { linter, lintGutter } from '@codemirror/lint';
import { Compartment, EditorState } from '@codemirror/state';
import { EditorView, hoverTooltip } from '@codemirror/view';
import { basicSetup } from 'codemirror';
import { stateExtensions } from 'codemirror-json-schema';
import { yamlCompletion, yamlSchemaHover } from 'codemirror-json-schema/yaml';
import { useEffect, useRef } from 'react';
import { bundleLinter, type BundleSchemas } from '../lib/bundle-lint';

interface YamlEditorProps {
  /** The text to show; when it changes from outside (a bundle loaded), the editor takes it. */
  value: string;
  onChange: (text: string) => void;
  /** The bundle's schemas: validation markers, completion (Ctrl-Space) and hover. Without them, plain YAML. */
  schemas?: BundleSchemas | undefined;
  /** The editor's accessible name. */
  label: string;
  /** The ID of text that describes the editor (its keys, its problems). */
  describedBy?: string;
}

const schemaExtensions = (schemas: BundleSchemas | undefined) =>
  schemas
    ? [
        linter(bundleLinter(schemas), { delay: 300 }),
        yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
        hoverTooltip(yamlSchemaHover()),
        stateExtensions(schemas.document),
      ]
    : [];

/**
 * A CodeMirror 6 YAML editor: line numbers, undo, search, bracket matching, and with the bundle's schemas the
 * markers of every schema problem. Tab moves focus on (as everywhere on the page); Ctrl-Space completes.
 */
export function YamlEditor({ value, onChange, schemas, label, describedBy }: YamlEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const schemaSlot = useRef(new Compartment());
  const changed = useRef(onChange);
  useEffect(() => {
    changed.current = onChange;
  }, [onChange]);

  useEffect(() => {
    const editor = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: value,
        extensions: [
          basicSetup,
          yaml(),
          lintGutter(),
          schemaSlot.current.of(schemaExtensions(schemas)),
          EditorView.contentAttributes.of({
            'aria-label': label,
            'aria-multiline': 'true',
            // Focusable as it is (contenteditable); said outright so checkers see the scroller's content is reachable.
            tabindex: '0',
            ...(describedBy ? { 'aria-describedby': describedBy } : {}),
          }),
          EditorView.updateListener.of((update) => {
            if (update.docChanged) changed.current(update.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = editor;
    return () => {
      editor.destroy();
      view.current = null;
    };
    // The editor is made once; text and schemas that change later are handed to it below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const editor = view.current;
    if (editor && editor.state.doc.toString() !== value)
      editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: value } });
  }, [value]);

  useEffect(() => {
    view.current?.dispatch({ effects: schemaSlot.current.reconfigure(schemaExtensions(schemas)) });
  }, [schemas]);

  return <div ref={host} className="yaml-editor" />;
}
