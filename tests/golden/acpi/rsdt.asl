/*
 * Root System Description Table (RSDT): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[0004]                          Signature : "RSDT"    [Root System Description Table]
[0004]                       Table Length : 0000002C
[0001]                           Revision : 01
[0001]                           Checksum : 81
[0006]                             Oem ID : "FWCOEM"
[0008]                       Oem Table ID : "FWCTABLE"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "FWC "
[0004]              Asl Compiler Revision : 00010000

[0004]             ACPI Table Address   0 : 7FFE0000
[0004]             ACPI Table Address   1 : 7FFE1000
