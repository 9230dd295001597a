#!/usr/bin/env cwl-runner
cwlVersion: v1.2
class: Workflow
doc: |
  The vocabulary of some texts: split each text into one word per line (a scatter: one
  job per text, in parallel), then merge the word lists into one sorted list of distinct words.
requirements:
  ScatterFeatureRequirement: {}
inputs:
  texts: File[]
outputs:
  vocabulary:
    type: File
    outputSource: merge/sorted
steps:
  split:
    scatter: text
    in:
      text: texts
    out: [words]
    run:
      class: CommandLineTool
      baseCommand: [tr, -s, " ", "\n"]
      stdin: $(inputs.text.path)
      inputs:
        text: File
      stdout: words.txt
      outputs:
        words: stdout
  merge:
    in:
      lists: split/words
    out: [sorted]
    run:
      class: CommandLineTool
      baseCommand: [sort, -u]
      inputs:
        lists:
          type: File[]
          inputBinding: {position: 1}
      stdout: vocabulary.txt
      outputs:
        sorted: stdout
