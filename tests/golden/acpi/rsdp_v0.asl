/*
 * Root System Description Pointer (RSD PTR): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[0008]                          Signature : "RSD PTR "
[0001]                           Checksum : 64
[0006]                             Oem ID : "FWCOEM"
[0001]                           Revision : 00
[0004]                       RSDT Address : 7FFD0040
