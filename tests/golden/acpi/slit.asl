/*
 * System Locality Information Table (SLIT): iasl data-table source written by fwc.
 * Compile with `iasl -z` to keep the Creator ID and Creator Revision.
 */

[0004]                          Signature : "SLIT"    [System Locality Information Table]
[0004]                       Table Length : 0000003C
[0001]                           Revision : 01
[0001]                           Checksum : 4C
[0006]                             Oem ID : "FWCOEM"
[0008]                       Oem Table ID : "FWCTABLE"
[0004]                       Oem Revision : 00000001
[0004]                    Asl Compiler ID : "FWC "
[0004]              Asl Compiler Revision : 00010000

[0008]                         Localities : 0000000000000004

[0004]                       Locality   0 : 0A 15 16 17
[0004]                       Locality   1 : 15 0A 15 16
[0004]                       Locality   2 : 16 15 0A 15
[0004]                       Locality   3 : 17 16 15 0A
